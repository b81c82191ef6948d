"""Check that every locked distribution has a wheel ACC's Alpine CPython 3.12 can install.

ACC builds on ``python:3.12-alpine`` (musl libc, x86_64). A locked distribution without a
wheel for it makes pip fall back to the sdist and compile during the build, or fail where
there is no compiler. This asks pip, under a real CPython 3.12 (so environment markers such
as ``python_version`` are evaluated for 3.12, which ``--python-version`` alone does not
do), to download every pin of the locks with ``--only-binary=:all:`` for exactly the tags
Alpine's pip accepts: ``musllinux_1_2`` down to ``musllinux_1_0`` (Alpine 3.x ships musl
1.2; ``watchfiles``, for one, only publishes ``musllinux_1_1``), plain ``linux``, and pure
wheels. No Alpine machine is needed.

    python scripts/check_alpine_wheels.py [--python /path/to/python3.12]

The interpreter is ``--python``, else ``$ALPINE_CHECK_PYTHON``, else ``python3.12`` on
PATH, else one under ``~/.pyenv/versions/3.12.*``; without one the check fails, saying so.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = [
    "ALPINE_PLATFORMS",
    "find_python312",
    "main",
    "missing_wheels",
    "pip_download_command",
    "without",
]

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements/runtime.lock", "requirements/build.lock")
ALPINE_PLATFORMS = (
    "musllinux_1_2_x86_64",
    "musllinux_1_1_x86_64",
    "musllinux_1_0_x86_64",
    "linux_x86_64",
)


def find_python312(explicit: str | None = None) -> str | None:
    """A CPython 3.12 interpreter, or None."""
    candidates = [explicit, os.environ.get("ALPINE_CHECK_PYTHON"), shutil.which("python3.12")]
    candidates += sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.12.*/bin/python3.12")), reverse=True
    )
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.implementation.name, sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "cpython (3, 12)":
            return candidate
    return None


def pip_download_command(python: str, lock: Path, destination: Path) -> list[str]:
    command = [
        python,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-deps",
        "--require-hashes",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        "3.12",
        "--abi",
        "cp312",
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--dest",
        str(destination),
        "--requirement",
        str(lock),
    ]
    for platform in ALPINE_PLATFORMS:
        command += ["--platform", platform]
    return command


MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")


def without(lock_text: str, name: str) -> str:
    """``lock_text`` less the entry (its pin line and indented hash lines) for ``name``."""
    key = re.sub(r"[-_.]+", "-", name).lower()
    kept: list[str] = []
    skipping = False
    for line in lock_text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            pinned = re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0]
            skipping = re.sub(r"[-_.]+", "-", pinned).lower() == key
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def missing_wheels(python: str, lock: Path, scratch: Path) -> tuple[list[str], int]:
    """Names with no Alpine wheel (pip stops at the first, so drop it and ask again), and
    how many wheels were found for the rest."""
    text = lock.read_text(encoding="utf-8")
    missing: list[str] = []
    for attempt in range(text.count("==") + 1):
        current = scratch / f"{lock.stem}-{attempt}.lock"
        current.write_text(text, encoding="utf-8")
        destination = scratch / f"{lock.stem}-{attempt}"
        result = subprocess.run(
            pip_download_command(python, current, destination),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return missing, len(list(destination.glob("*.whl")))
        match = MISSING.search(result.stdout + result.stderr)
        if match is None:
            raise RuntimeError(f"pip download failed:\n{(result.stdout + result.stderr)[-3000:]}")
        name = match.group(1).split("==")[0]
        missing.append(match.group(1))
        text = without(text, name)
    raise RuntimeError("pip kept failing on the same distribution")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--python", help="a CPython 3.12 interpreter with pip")
    parser.add_argument(
        "locks", nargs="*", default=list(LOCKS), help=f"lock files (default: {' '.join(LOCKS)})"
    )
    args = parser.parse_args(argv)
    python = find_python312(args.python)
    if python is None:
        print(
            "alpine-wheels: no CPython 3.12 found (tried --python, $ALPINE_CHECK_PYTHON, "
            "python3.12 on PATH, ~/.pyenv/versions/3.12.*); install one or point "
            "ALPINE_CHECK_PYTHON at it",
            file=sys.stderr,
        )
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="alpine-wheels-") as scratch:
        for name in args.locks:
            lock = ROOT / name
            missing, found = missing_wheels(python, lock, Path(scratch))
            if missing:
                failed = True
                print(
                    f"alpine-wheels: {name}: FAILED: no wheel for CPython 3.12 on Alpine "
                    f"x86_64 (pip would compile it on ACC): {', '.join(missing)}"
                )
            else:
                print(
                    f"alpine-wheels: {name}: OK, {found} wheels for CPython 3.12 on Alpine "
                    "x86_64, nothing to compile"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
