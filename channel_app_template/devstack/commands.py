"""``channel-app dev``: the whole stack in one terminal, with nothing installed but Python."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from channel_app_template.devstack.options import LOCAL_EXTRA_HINT, DevOptions

__all__ = ["register", "run_dev"]

MAX_PRODUCTS = 100_000
MAX_ORDERS = 10_000
MAX_STOP_TIMEOUT = 600.0


def _bounded_int(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _stop_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_STOP_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_STOP_TIMEOUT:g}")
    return value


def run_dev(args: argparse.Namespace) -> int:
    try:
        from channel_app_template.devstack.broker import BrokerUnavailableError
        from channel_app_template.devstack.channel_conf import load_channel_conf
        from channel_app_template.devstack.claim import (
            LeftoversRemainError,
            StateDirBusyError,
            claim_state_dir,
        )
        from channel_app_template.devstack.stack import plan, run
        from channel_app_template.devstack.supervisor import Supervisor
    except ImportError as error:  # a deployed install: runtime lock only
        print(f"cannot start: {LOCAL_EXTRA_HINT} ({error})", file=sys.stderr)
        return 2

    supervisor = Supervisor(stop_timeout=args.stop_timeout)
    supervisor.output.register("omnitron")  # the widest usual name: aligned from line one
    try:
        given = load_channel_conf(args.channel_conf) if args.channel_conf else None
        options = DevOptions(
            web_port=args.port,
            products=args.products,
            demo_orders=0 if args.no_demo_orders else args.orders,
            state_dir=Path(args.state_dir),
            host=args.host,
            procfile=Path(args.procfile),
            channel_conf=given,
        )
        with claim_state_dir(
            Path.cwd() / options.state_dir, supervisor.say, args.stop_timeout
        ) as claim:
            try:
                dev = plan(options)
            except (BrokerUnavailableError, OSError, ValueError) as error:
                supervisor.say(f"cannot start: {error}")
                return 2
            return run(dev, supervisor, claim)
    except (StateDirBusyError, LeftoversRemainError, OSError, ValueError) as error:
        supervisor.say(f"cannot start: {error}")
        return 2


def register(subparsers: Any) -> None:
    defaults = DevOptions()
    dev = subparsers.add_parser(
        "dev",
        help="run the whole stack locally in one terminal (embedded broker and simulators "
        "when none are configured)",
        description="Run every line of the Procfile as written (through sh -c, as honcho "
        "does). Without BROKER_URL/BROKER_HOST an embedded Valkey is started; without "
        "OMNITRON_URL the Omnitron simulator is started with a demo catalog, and the "
        "reference marketplace when CHANNEL_MODULE is the reference channel. One dev per "
        "state dir. Ctrl-C stops everything.",
    )
    dev.add_argument(
        "--port",
        type=_bounded_int(1, 65535),
        default=None,
        help="web port (default WEB_PORT, from the environment or .env, or 8008)",
    )
    dev.add_argument(
        "--host",
        default=defaults.host,
        help="web bind address, passed to the Procfile as WEB_HOST (default %(default)s)",
    )
    dev.add_argument(
        "--channel-conf",
        default=None,
        metavar="JSON|@FILE",
        help="the channel's settings (channel.conf) for the Omnitron simulator: your "
        "marketplace's sandbox URL and keys (default: the reference marketplace for the "
        "reference channel, else CHANNEL_MODULE's conformance_marketplace())",
    )
    dev.add_argument(
        "--procfile",
        default=str(defaults.procfile),
        help="the Procfile whose lines are run (default ./%(default)s)",
    )
    dev.add_argument(
        "--products",
        type=_bounded_int(0, MAX_PRODUCTS),
        default=defaults.products,
        metavar="N",
        help="demo catalog size when the simulator starts empty (default %(default)s)",
    )
    dev.add_argument(
        "--orders",
        type=_bounded_int(0, MAX_ORDERS),
        default=defaults.demo_orders,
        metavar="N",
        help="demo orders placed once products are synced (default %(default)s)",
    )
    dev.add_argument(
        "--no-demo-orders", action="store_true", help="place no demo orders on the marketplace"
    )
    dev.add_argument(
        "--state-dir",
        default=str(defaults.state_dir),
        help="broker data, simulator state, beat schedule (default ./%(default)s)",
    )
    dev.add_argument(
        "--stop-timeout",
        type=_stop_timeout,
        default=10.0,
        metavar="SECONDS",
        help="grace period after SIGTERM before SIGKILL (default %(default)s)",
    )
    dev.set_defaults(handler=run_dev)
