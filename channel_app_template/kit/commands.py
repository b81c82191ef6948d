"""``channel-app new-channel`` and ``channel-app conformance``: the integrator kit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    new = subparsers.add_parser(
        "new-channel",
        help="scaffold a marketplace integration (config, commands, client, test)",
        description="Write a channel package whose commands are all declared unsupported "
        "until you implement them; it passes the conformance suite as generated.",
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
    print(
        f"\nCHANNEL_MODULE={written.module}\n"
        f"check it: channel-app conformance {written.module}  (from {args.dir})"
    )
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from channel_app_template.kit.conformance import conf_from_text, run_conformance

    try:
        conf = conf_from_text(args.conf)
    except (OSError, ValueError) as error:
        print(f"conformance: bad --conf: {error}", file=sys.stderr)
        return 2
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # channel packages usually live in the project
    if args.no_pytest:
        report = run_conformance(args.module, conf)
        print(report.format())
        return 0 if report.ok else 1
    try:
        import pytest
    except ImportError:
        print("pytest is not installed; showing the plain report", file=sys.stderr)
        report = run_conformance(args.module, conf)
        print(report.format())
        return 0 if report.ok else 1
    from channel_app_template.kit import suite

    os.environ[suite.MODULE_VARIABLE] = args.module
    if args.conf:
        os.environ[suite.CONF_VARIABLE] = args.conf
    else:
        os.environ.pop(suite.CONF_VARIABLE, None)
    pythonpath = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.getcwd(), pythonpath) if p)
    extra = list(args.pytest_args)
    code = pytest.main(
        [
            str(Path(suite.__file__)),
            "-p",
            "no:cacheprovider",
            "-rfs",
            "-q",
            "--rootdir",
            os.getcwd(),
            *extra,
        ]
    )
    return int(code)
