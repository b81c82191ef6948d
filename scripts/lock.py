"""Make, or check, the locks that ``build.sh`` installs from.

``requirements/runtime.lock`` pins every distribution the deployed processes need (the
``[project] dependencies`` of ``pyproject.toml`` and everything they pull in), with hashes,
resolved once for every platform and Python the app supports (``uv pip compile
--universal``), so the same lock installs on ACC's Alpine CPython 3.12 and on Debian's
CPython 3.11. ``requirements/build.lock`` pins the build backend (``[build-system]
requires``) the same way, so the app itself is built without fetching anything unpinned.

    python scripts/lock.py            # write both locks (keeps existing pins that still fit)
    python scripts/lock.py --upgrade  # write both locks with the newest versions that fit
    python scripts/lock.py --check    # exit 1 when a lock and pyproject.toml disagree

``--check`` resolves again with the committed lock as the preferred versions and compares
the pins (name, version, environment marker), not the hashes: a project that uploads one
more wheel to a release it already published must not fail CI. It therefore fails only
when ``pyproject.toml`` changed (a requirement added, removed, or no longer satisfied by its
pin) or the lock was edited by hand.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOCKS", "Lock", "Pin", "compile_lock", "main", "pin_differences", "pins"]

ROOT = Path(__file__).resolve().parents[1]
# The oldest Python the app supports; --universal covers every newer one, markers included.
PYTHON = "3.11"
COMMAND = "python scripts/lock.py"


@dataclass(frozen=True)
class Lock:
    """One lock file and what it is resolved from."""

    path: str
    source: str  # "runtime": [project] dependencies; "build": [build-system] requires


LOCKS = (
    Lock("requirements/runtime.lock", "runtime"),
    Lock("requirements/build.lock", "build"),
)


@dataclass(frozen=True)
class Pin:
    """``name==version ; marker`` as a lock states it (name normalised, PEP 503)."""

    name: str
    version: str
    marker: str


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, list[Pin]]:
    """The pins of a requirements-style lock, by normalised name.

    A name may be pinned more than once, each time under a different marker (a universal
    lock can choose per Python version); hashes, comments and options are ignored.
    """
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current)
        current = ""
    if current.strip():
        logical.append(current)
    found: dict[str, list[Pin]] = {}
    for entry in logical:
        words = [w for w in entry.split() if not w.startswith("--hash=")]
        requirement = " ".join(words).strip()
        if not requirement or requirement.startswith("-"):
            continue
        spec, _, marker = requirement.partition(";")
        name, sep, version = spec.strip().partition("==")
        if not sep:
            raise ValueError(f"not an exact pin: {requirement!r}")
        pin = Pin(normalise(name.split("[", 1)[0]), version.strip(), marker.strip())
        found.setdefault(pin.name, []).append(pin)
    return found


def pin_differences(expected: dict[str, list[Pin]], actual: dict[str, list[Pin]]) -> list[str]:
    """Lines saying how ``actual`` (the committed lock) departs from ``expected``."""

    def show(entries: list[Pin]) -> str:
        return ", ".join(f"{p.version}{f' ; {p.marker}' if p.marker else ''}" for p in entries)

    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, have = expected.get(name), actual.get(name)
        if have is None:
            problems.append(f"missing from the lock: {name} {show(want or [])}")
        elif want is None:
            problems.append(f"locked but not required: {name} {show(have)}")
        elif sorted(want, key=repr) != sorted(have, key=repr):
            problems.append(f"{name}: lock has {show(have)}, pyproject.toml needs {show(want)}")
    return problems


def uv() -> list[str]:
    """How to run uv: the ``uv`` package of the dev extra, else one on PATH."""
    try:
        import uv as uv_package

        return [uv_package.find_uv_bin()]
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            sys.exit('lock: uv is needed: pip install -e ".[dev]" (or pip install uv)')
        return [found]


def build_requirements() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requires: list[str] = data["build-system"]["requires"]
    return requires


def compile_lock(lock: Lock, output: Path, *, upgrade: bool = False) -> None:
    """Resolve ``lock`` into ``output``; pins already in ``output`` are preferred."""
    command = [
        *uv(),
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--generate-hashes",
        "--python-version",
        PYTHON,
        "--custom-compile-command",
        COMMAND,
        "--output-file",
        str(output),
    ]
    if upgrade:
        command.append("--upgrade")
    stdin = None
    if lock.source == "runtime":
        command.append(str(ROOT / "pyproject.toml"))
    else:
        command.append("-")
        stdin = "\n".join(build_requirements()) + "\n"
    subprocess.run(command, input=stdin, text=True, check=True, cwd=ROOT)


def check() -> int:
    failed = False
    with tempfile.TemporaryDirectory(prefix="lock-check-") as scratch:
        for lock in LOCKS:
            committed = ROOT / lock.path
            if not committed.is_file():
                print(f"lock: {lock.path} does not exist; run {COMMAND}")
                failed = True
                continue
            fresh = Path(scratch) / Path(lock.path).name
            shutil.copyfile(committed, fresh)  # its pins are the preferred versions
            compile_lock(lock, fresh)
            problems = pin_differences(
                pins(fresh.read_text(encoding="utf-8")),
                pins(committed.read_text(encoding="utf-8")),
            )
            if problems:
                failed = True
                print(f"lock: {lock.path} disagrees with pyproject.toml (run {COMMAND}):")
                for line in problems:
                    print(f"  {line}")
                diff = difflib.unified_diff(
                    committed.read_text(encoding="utf-8").splitlines(),
                    fresh.read_text(encoding="utf-8").splitlines(),
                    lock.path,
                    "regenerated",
                    lineterm="",
                    n=0,
                )
                print("\n".join(line for line in diff if "--hash=" not in line))
            else:
                count = sum(len(entries) for entries in pins(committed.read_text()).values())
                print(f"lock: {lock.path} matches pyproject.toml ({count} pins)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare, write nothing")
    mode.add_argument("--upgrade", action="store_true", help="newest versions that fit")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    for lock in LOCKS:
        path = ROOT / lock.path
        path.parent.mkdir(parents=True, exist_ok=True)
        compile_lock(lock, path, upgrade=args.upgrade)
        count = sum(len(entries) for entries in pins(path.read_text()).values())
        print(f"lock: wrote {lock.path} ({count} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
