"""Run ``channel-app dev`` as a user does, read its banner, and leave nothing behind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.processes import REPO_ROOT, free_port


@dataclass
class DevRun:
    """A running ``channel-app dev`` and what its banner said."""

    process: subprocess.Popen[bytes]
    log: Path
    web_port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def banner(self, label: str, timeout: float = 180.0) -> str:
        """The value of a banner line (``label : value``), once it is printed."""
        pattern = re.compile(rf"\| {re.escape(label)}\s*: (.+)$", re.MULTILINE)
        found = wait_until(lambda: pattern.search(self.output()), timeout, self, f"{label!r}")
        return str(found.group(1)).strip()

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def tree(self) -> list[psutil.Process]:
        """Every process below ``dev``: children in their own groups, and their children."""
        return psutil.Process(self.process.pid).children(recursive=True)


def wait_until(check: Callable[[], Any], timeout: float, dev: DevRun | None, what: str) -> Any:
    """``check()``'s first truthy value, polled; fails early if ``dev`` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        if dev is not None and dev.process.poll() is not None:
            raise AssertionError(
                f"dev exited ({dev.process.returncode}) waiting for {what}\n{dev.output()[-6000:]}"
            )
        time.sleep(0.5)
    tail = dev.output()[-6000:] if dev is not None else ""
    raise AssertionError(f"no {what} within {timeout:.0f}s\n{tail}")


def clean_env(path: str) -> dict[str, str]:
    """What a newcomer's shell has: no BROKER_*, OMNITRON_*, FLOWER_* or anything of ours."""
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["PIP_FIND_LINKS"] = os.environ.get("PIP_FIND_LINKS", "")
    return {k: v for k, v in env.items() if v}


def project_with_procfile(directory: Path, extra_lines: str = "") -> Path:
    """A project directory holding the repository's Procfile (plus ``extra_lines``)."""
    directory.mkdir(parents=True, exist_ok=True)
    procfile = (REPO_ROOT / "Procfile").read_text()
    (directory / "Procfile").write_text(procfile.rstrip("\n") + "\n" + extra_lines)
    return directory


def start_dev(
    command: list[str], cwd: Path, env: dict[str, str], *args: str, web_port: int | None = None
) -> DevRun:
    """``command dev --port PORT *args`` in its own session, output to ``cwd/dev-N.log``."""
    web_port = web_port or free_port()
    number = len(list(cwd.glob("dev-*.log")))
    log = cwd / f"dev-{number}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "dev", "--port", str(web_port), *args],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return DevRun(process, log, web_port)


def stop_leftovers(dev: DevRun, known: list[psutil.Process]) -> None:
    """A failed test: stop ``dev`` (SIGINT, then SIGKILL) and every process it started."""
    with contextlib.suppress(psutil.Error):
        known = [*known, *dev.tree()]
    if dev.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dev.process.pid, signal.SIGINT)
        try:
            dev.process.wait(60)
        except subprocess.TimeoutExpired:
            dev.process.kill()
            dev.process.wait(10)
    for proc in known:
        with contextlib.suppress(psutil.Error):
            proc.kill()


@contextlib.contextmanager
def channel_app_dev(
    command: list[str], cwd: Path, env: dict[str, str], *args: str, web_port: int | None = None
) -> Iterator[DevRun]:
    dev = start_dev(command, cwd, env, *args, web_port=web_port)
    try:
        yield dev
    finally:
        stop_leftovers(dev, [])


def running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def still_running(processes: list[psutil.Process], timeout: float = 60.0) -> list[psutil.Process]:
    """Those of ``processes`` still running after waiting up to ``timeout`` for them."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if running(p)]
    return alive


def stop_and_check_nothing_is_left(dev: DevRun, expected_code: int | None = 0) -> None:
    tree = dev.tree()
    assert tree, "dev started no process"
    dev.process.send_signal(signal.SIGINT)
    code = dev.process.wait(90)
    if expected_code is not None:
        assert code == expected_code, dev.output()[-4000:]
    alive = still_running(tree, 30)
    assert not alive, f"left running: {[(p.pid, p.cmdline()) for p in alive]}"
    assert "all processes stopped" in dev.output()


def copy_of_the_project(target: Path) -> Path:
    """What a clone of this repository holds (tracked and new files, not ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:  # not a git checkout: copy what a clone would hold
        ignore = shutil.ignore_patterns(
            ".git", ".venv*", ".ci-*", "var", "*.egg-info", "__pycache__"
        )
        shutil.copytree(REPO_ROOT, target, ignore=ignore)
        return target
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target
