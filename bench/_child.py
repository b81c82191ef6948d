"""The parent's side of a benchmark that runs each configuration in a fresh child process
(``script --child ARGS``), so that its peak RSS and its imports are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child_result(script: str, *args: object) -> Any:
    """The JSON the child printed last; its stderr's end, and exit, when it failed."""
    argv = [str(arg) for arg in args]
    out = subprocess.run(
        [sys.executable, script, "--child", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{Path(script).name} --child {' '.join(argv)} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])
