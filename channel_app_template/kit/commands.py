"""``channel-app new-channel`` and ``channel-app conformance``: the integrator kit."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    new = subparsers.add_parser(
        "new-channel",
        help="scaffold a marketplace integration (config, methods, client, test)",
        description="Write a channel package (channels/NAME/, its tests in "
        "channels/NAME/tests/) for an upsert marketplace: products, stocks, prices and "
        "orders as stubs, unsupported until you implement them; then say how to install "
        "it so the worker and beat find it.",
    )
    new.add_argument("name", help="the marketplace's name, e.g. acme (letters, digits, _)")
    new.add_argument("--dir", default=".", help="project directory to write into (default .)")
    new.add_argument(
        "--package",
        default=None,
        help="dotted package for the channel (default channels.NAME); "
        "CHANNEL_MODULE is then PACKAGE.integration",
    )
    new.add_argument("--force", action="store_true", help="overwrite files that exist")
    new.set_defaults(handler=_new_channel)

    check = subparsers.add_parser(
        "conformance",
        help="check a CHANNEL_MODULE against the engine's contract (runs pytest)",
        description="Run the conformance suite on MODULE: loading, config, describe(), "
        "check_connection and, with a test marketplace, every supported command through "
        "the real engine against a private Omnitron simulator.",
    )
    check.add_argument("module", help="the channel module, e.g. channels.acme.integration")
    check.add_argument(
        "--conf",
        default=None,
        help="channel conf of a test marketplace: JSON, or @file.json "
        "(default: the module's conformance_marketplace(), if any)",
    )
    check.add_argument(
        "--yes",
        action="store_true",
        help="let the run write to the --conf marketplace what it announces "
        "(products, stocks, prices, images, order acknowledgements); same as "
        "CHANNEL_APP_CONFORMANCE_YES=1. Without it a run that would write stops and "
        "shows what it would have written",
    )
    check.add_argument(
        "--no-pytest",
        action="store_true",
        help="print the plain report instead of running pytest",
    )
    check.add_argument(
        "--pytest-arg",
        action="append",
        default=[],
        dest="pytest_args",
        metavar="ARG",
        help="extra pytest argument (repeatable), e.g. --pytest-arg=-x",
    )
    check.set_defaults(handler=_conformance)


def _new_channel(args: argparse.Namespace) -> int:
    from channel_app_template.kit.scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(args.name, Path(args.dir), package=args.package, force=args.force)
    except ScaffoldError as error:
        print(f"new-channel: {error}", file=sys.stderr)
        return 2
    for path in written.files:
        print(f"wrote {path}")
    print(f"\nCHANNEL_MODULE={written.module}\n\n{written.next_steps(args.dir)}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from channel_app_template.kit.conformance import conf_from_text, run_conformance

    try:
        conf = conf_from_text(args.conf)
    except (OSError, ValueError) as error:
        print(f"conformance: bad --conf: {error}", file=sys.stderr)
        return 2
    if not args.no_pytest and importlib.util.find_spec("pytest") is None:
        print("pytest is not installed; showing the plain report", file=sys.stderr)
        args.no_pytest = True
    if args.no_pytest:
        report = run_conformance(args.module, conf, confirm=args.yes)
        print(report.format())
        return 0 if report.ok else 1
    import pytest

    from channel_app_template.kit import suite

    # The module is imported as every process imports it: from what is installed, never
    # from the working directory (a scaffold that is not installed fails here too).
    os.environ[suite.MODULE_VARIABLE] = args.module
    os.environ.pop(suite.CONF_VARIABLE, None)
    if args.conf:
        os.environ[suite.CONF_VARIABLE] = args.conf
    if args.yes:
        os.environ[suite.YES_VARIABLE] = "1"
    code = pytest.main(
        [
            str(Path(suite.__file__)),
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "-rfs",
            "-q",
            "--rootdir",
            os.getcwd(),
            *args.pytest_args,
        ]
    )
    return int(code)
