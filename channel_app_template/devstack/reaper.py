"""The watcher that makes ``channel-app dev``'s processes die with it, on every OS.

``dev`` starts this in its own session with a pipe on its stdin and keeps the other end
open. When ``dev`` exits (normally, by a signal, even by SIGKILL) the kernel closes that
end; the read here returns, and every process still carrying this run's id in its
environment (or in ``dev``'s record of its children, for a process whose environment
cannot be read) gets SIGTERM, then SIGKILL after the grace period. That covers what a
per-child parent-death signal would miss: the programs ``sh -c`` starts below the shell,
Celery's pool processes, and anything a channel's test marketplace started.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="channel-app-dev-reaper")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--run", required=True, help="the run id dev marked its processes with")
    parser.add_argument("--dev-pid", type=int, required=True)
    parser.add_argument("--grace", type=float, default=10.0)
    args = parser.parse_args(argv)
    # Ctrl-C and a closed terminal are for dev; we act only once dev is gone.
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass

    from channel_app_template.devstack.claim import find_run, stop_processes
    from channel_app_template.devstack.ports import describe_process

    left = [p for p in find_run(args.state_dir, args.run) if p.pid != args.dev_pid]
    if not left:
        return 0
    with contextlib.suppress(OSError, ValueError):
        print(
            f"channel-app dev (pid {args.dev_pid}) is gone; stopping the {len(left)} "
            "processes it left: " + ", ".join(describe_process(p, 60) for p in left),
            flush=True,
        )
    remaining = stop_processes(left, args.grace)
    with contextlib.suppress(OSError, ValueError):
        if remaining:
            print(
                "could not stop: " + ", ".join(describe_process(p) for p in remaining),
                flush=True,
            )
    return 1 if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
