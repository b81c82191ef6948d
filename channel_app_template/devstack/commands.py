"""``channel-app dev``: the whole stack in one terminal, with nothing installed but Python."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from channel_app_template.devstack.stack import DevOptions


def run_dev(args: argparse.Namespace) -> int:
    from channel_app_template.devstack.broker import BrokerUnavailableError
    from channel_app_template.devstack.stack import plan, run
    from channel_app_template.devstack.supervisor import Supervisor

    options = DevOptions(
        web_port=args.port or int(os.environ.get("WEB_PORT") or DevOptions().web_port),
        products=args.products,
        demo_orders=0 if args.no_demo_orders else args.orders,
        state_dir=Path(args.state_dir),
        host=args.host,
    )
    supervisor = Supervisor(stop_timeout=args.stop_timeout)
    try:
        dev = plan(options)
    except (BrokerUnavailableError, OSError) as error:
        supervisor.say(f"cannot start: {error}")
        return 2
    return run(dev, supervisor)


def register(subparsers: Any) -> None:
    defaults = DevOptions()
    dev = subparsers.add_parser(
        "dev",
        help="run the whole stack locally in one terminal (embedded broker and simulators "
        "when none are configured)",
        description="Start worker, beat, Flower and web like the Procfile does. Without "
        "BROKER_URL/BROKER_HOST an embedded Valkey is started; without OMNITRON_URL the "
        "Omnitron simulator and the reference marketplace are started with a demo catalog. "
        "Ctrl-C stops everything.",
    )
    dev.add_argument(
        "--port", type=int, default=None, help=f"web port (default WEB_PORT or {defaults.web_port})"
    )
    dev.add_argument("--host", default=defaults.host, help="web bind address (default %(default)s)")
    dev.add_argument(
        "--products",
        type=int,
        default=defaults.products,
        metavar="N",
        help="demo catalog size when the simulator starts empty (default %(default)s)",
    )
    dev.add_argument(
        "--orders",
        type=int,
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
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="grace period after SIGTERM before SIGKILL (default %(default)s)",
    )
    dev.set_defaults(handler=run_dev)
