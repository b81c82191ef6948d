"""The ``channel-app`` command line.

Each group of subcommands lives next to what it drives and exposes ``register(subparsers)``;
this module only assembles them, so adding a command never means editing a long file.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "channel_app_template.processes",
    "channel_app_template.sandbox.commands",
    "channel_app_template.devstack.commands",
    "channel_app_template.ops.commands",
    "channel_app_template.kit.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channel-app",
        description="Run and operate a channel app (Omnitron <-> marketplace sync).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
