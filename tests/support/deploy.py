"""Deploy the project the way ACC does, in a scratch directory: a copy of the committed
project, a fresh virtualenv, ``build.sh``. Nothing here touches the working tree."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import venv
from pathlib import Path

from tests.support.processes import REPO_ROOT

__all__ = ["copy_project", "fresh_venv", "run", "stop_group", "venv_env"]

SKIP = {".git", ".venv", ".ci-venv", ".ci-build-venv", "var", "build", "dist"}


def copy_project(destination: Path) -> Path:
    """The files git tracks (or, outside a checkout, the tree less caches and venvs),
    plus any uncommitted edits to them: what a deploy of this working tree would see."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.decode().split("\0"):
            source = REPO_ROOT / name
            if name and source.is_file():
                target = destination / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    else:
        shutil.copytree(
            REPO_ROOT,
            destination,
            dirs_exist_ok=True,
            ignore=lambda _d, names: [
                n for n in names if n in SKIP or n.endswith(".egg-info") or n == "__pycache__"
            ],
        )
    return destination


def fresh_venv(path: Path) -> Path:
    """A new virtualenv with pip and nothing else; returns its ``bin`` directory."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin"


def venv_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a shell in which ``bin_dir``'s venv is activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(bin_dir.parent)
    env.update(extra)
    return env


def run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; on failure the assertion shows its output."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def stop_group(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Stop a process started with ``start_new_session=True`` (honcho, say) as Ctrl-C
    would, then kill whatever of its group is still there: a worker stuck in a warm
    shutdown must not outlive the test."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
