"""``channel-app sandbox ...``: start the bundled simulators."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run the bundled Omnitron simulator")
    sandbox.add_subparsers(dest="sandbox_command", metavar="SIMULATOR", required=True)
