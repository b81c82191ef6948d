"""Benchmarks that run each configuration in a fresh child process (``script --child
ARGS``), so that its peak RSS and its imports are its own: both sides of that. The child
prints its result as JSON on its last line; the parent reads that line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child_result(script: str, *args: object) -> Any:
    """The JSON the child printed last; its stderr's end, and exit, when it failed or
    printed nothing."""
    argv = [str(arg) for arg in args]
    out = subprocess.run(
        [sys.executable, script, "--child", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0 or not out.stdout.strip():
        print(out.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{Path(script).name} --child {' '.join(argv)} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_or_run_child(
    parser: argparse.ArgumentParser, one_run: Callable[..., Any], nargs: int
) -> argparse.Namespace | None:
    """The parent's arguments; or, in a child (``--child`` and its ``nargs`` integers), run
    ``one_run`` on them, print its result and return ``None``."""
    parser.add_argument("--child", nargs=nargs, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(*args.child)))
        return None
    return args
