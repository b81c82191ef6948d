"""``channel-app sandbox ...``: start the bundled simulators.

``sandbox omnitron`` serves the Omnitron simulator; ``sandbox omnitron-seed`` fills a state file
without serving; ``sandbox marketplace`` serves the reference marketplace.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def register(subparsers: Any) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run the bundled simulators")
    simulators = sandbox.add_subparsers(dest="sandbox_command", metavar="SIMULATOR", required=True)
    _register_omnitron(simulators)
    _register_omnitron_seed(simulators)
    _register_marketplace(simulators)


def _register_omnitron(simulators: Any) -> None:
    parser = simulators.add_parser(
        "omnitron",
        help="serve the Omnitron simulator (login sandbox/sandbox, channel 1, catalog 1)",
        description="Serve a local Omnitron REST API with SQLite state, seeding and faults. "
        "/_sandbox/ routes need no token: bind to loopback only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--state", required=True, help="SQLite file holding the state")
    parser.add_argument(
        "--seed-products",
        type=int,
        default=0,
        metavar="N",
        help="seed a deterministic catalog of N products if the state is empty",
    )
    _add_fault_flags(parser)
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=None,
        metavar="SECONDS",
        help="tokens expire this long after login",
    )
    parser.add_argument(
        "--token-max-uses",
        type=int,
        default=None,
        metavar="N",
        help="tokens expire after N authenticated requests",
    )
    parser.add_argument(
        "--login-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 after N logins within a minute",
    )
    parser.add_argument(
        "--channel-conf",
        default=None,
        metavar="JSON|@FILE",
        help="replace channel 1's channel.conf at start-up: a JSON object, or @path to a "
        "file holding one (at run time: PUT/PATCH /_sandbox/channels/1/conf/)",
    )
    parser.add_argument("--log-level", default="warning")
    parser.set_defaults(handler=_serve_omnitron)


def _add_fault_flags(parser: Any) -> None:
    """The fault flags both simulators take (same names, same rule syntax)."""
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for deterministic faults and generated ids"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every /api/ call")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="RULE",
        help="fault rule (repeatable), 'key=value,...' or a JSON object, e.g. "
        "'pattern=/orders/,action=error,status=503,rate=0.3'; actions: error, drop, "
        "lost_response, delay, slow, trickle, ignore_page, repeat_next, empty_page, "
        "wrong_shape, drop_field, set_field, huge_body, extra_rows (see the sandbox READMEs)",
    )


def _faults_from(args: argparse.Namespace) -> Any:
    """The ``FaultConfig`` of ``--latency-ms``/``--seed``/``--fault``; a bad rule is a usage
    error naming the flag (exit 2), not a traceback."""
    from .common.faults import FaultConfig, parse_rule_flag

    try:
        faults = FaultConfig(latency_ms=args.latency_ms, seed=args.seed)
    except ValueError as exc:
        raise _UsageError(f"--latency-ms: {exc}") from None
    for number, text in enumerate(args.fault, 1):
        try:
            faults.add(parse_rule_flag(text))
        except ValueError as exc:
            raise _UsageError(f"--fault #{number}: {exc}") from None
    return faults


class _UsageError(Exception):
    """A flag's value is wrong; printed as ``error: ...`` with exit status 2."""


def _usage_error(exc: _UsageError) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _register_marketplace(simulators: Any) -> None:
    parser = simulators.add_parser(
        "marketplace",
        help="serve the reference marketplace (X-Api-Key: sandbox-key)",
        description="Serve the reference marketplace API (/api/v1/) with SQLite state, a seeded "
        "category tree, async product batches, rate limits and faults. /_sandbox/ routes need "
        "no key: bind to loopback only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--state", required=True, help="SQLite file holding the state")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accepted X-Api-Key value (repeatable; default sandbox-key)",
    )
    parser.add_argument(
        "--batch-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long a batch stays 'processing' (default 1.0; 0 completes at once)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=50.0,
        metavar="PER_SECOND",
        help="token-bucket refill per API key (default 50; 0 turns limiting off)",
    )
    parser.add_argument(
        "--rate-burst", type=int, default=100, metavar="N", help="token-bucket size (default 100)"
    )
    _add_fault_flags(parser)
    parser.add_argument("--log-level", default="warning")
    parser.set_defaults(handler=_serve_marketplace)


def _run(app: Any, args: argparse.Namespace) -> int:
    """Serve a simulator app in the foreground (uvicorn imported here: the CLI starts fast)."""
    import uvicorn

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
    )
    return 0


def _serve_marketplace(args: argparse.Namespace) -> int:
    from .marketplace.app import create_app

    try:
        faults = _faults_from(args)
    except _UsageError as exc:
        return _usage_error(exc)
    if args.host not in LOOPBACK:
        print(
            f"warning: /_sandbox/ routes need no key and the marketplace now listens on "
            f"{args.host}; bind to 127.0.0.1 unless you really mean it",
            file=sys.stderr,
        )
    app = create_app(
        args.state,
        faults=faults,
        api_keys=args.api_key or ("sandbox-key",),
        seed=args.seed or 0,
        batch_delay=args.batch_delay,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
    )
    return _run(app, args)


def _register_omnitron_seed(simulators: Any) -> None:
    parser = simulators.add_parser("omnitron-seed", help="seed an Omnitron simulator state file")
    parser.add_argument("--state", required=True)
    parser.add_argument("--products", type=int, default=1000)
    parser.set_defaults(handler=_seed_omnitron)


def _seed_omnitron(args: argparse.Namespace) -> int:
    from .omnitron.seed import seed_catalog
    from .omnitron.store import Store

    started = time.perf_counter()
    store = Store(args.state)
    created = seed_catalog(store, args.products)
    print(
        f"seeded {created} products into {args.state} in {time.perf_counter() - started:.2f}s",
        file=sys.stderr,
    )
    return 0


def _serve_omnitron(args: argparse.Namespace) -> int:
    from .common.channel_conf import load_channel_conf
    from .omnitron.app import create_app, sim_from
    from .omnitron.auth import AuthPolicy
    from .omnitron.seed import seed_catalog
    from .omnitron.store import DEFAULT_CHANNEL_ID

    try:
        faults = _faults_from(args)
        conf = None
        if args.channel_conf is not None:
            try:
                conf = load_channel_conf(args.channel_conf)
            except ValueError as exc:
                raise _UsageError(str(exc)) from None
    except _UsageError as exc:
        return _usage_error(exc)
    policy = AuthPolicy(
        token_ttl_seconds=args.token_ttl,
        token_max_uses=args.token_max_uses,
        login_limit=args.login_limit,
    )
    if args.host not in LOOPBACK:
        print(
            f"warning: /_sandbox/ routes need no token and the simulator now listens on "
            f"{args.host}; bind to 127.0.0.1 unless you really mean it",
            file=sys.stderr,
        )
    app = create_app(args.state, faults=faults, auth=policy, seed=args.seed or 0)
    # Reference data (cargos, locations, reasons, categories, attributes) is always there;
    # products only with --seed-products, and only into an empty catalog.
    store = sim_from(app).store
    seed_catalog(store, args.seed_products)
    if conf is not None:
        store.update("channels", DEFAULT_CHANNEL_ID, {"conf": conf})
        print(
            f"channel {DEFAULT_CHANNEL_ID}: channel.conf replaced ({len(conf)} keys: "
            f"{', '.join(sorted(conf))})",
            file=sys.stderr,
        )
    return _run(app, args)
