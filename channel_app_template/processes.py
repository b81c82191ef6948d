"""Subcommands that start or check the Procfile's processes.

``channel-app flower`` exists because Flower itself will happily run without
authentication; this wrapper refuses to, then hands over to ``celery flower``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from channel_app_template.settings import Role, SettingsError, load_settings

if TYPE_CHECKING:
    from channel_app_template.settings import Check

__all__ = ["check_config", "flower_command", "register", "run_flower", "startup_checks"]

DEFAULT_CELERY_APP = "channel_app_template.celery_app"


def startup_checks(role: Role) -> list[Check]:
    """What a process checks at start-up besides its own settings, listed with them: every
    process, that the task names ``BEAT_SCHEDULE`` uses are flows of the registry (the
    settings, below the registry, check only its shape and values); the worker and beat,
    that the integration modules load. Imported here, when asked: the CLI stays light."""
    from channel_app_template.core.run.registry import integration_problems
    from channel_app_template.schedule import unknown_task_problems

    checks: list[Check] = [unknown_task_problems]
    if role in (Role.WORKER, Role.BEAT):
        checks.append(integration_problems)
    return checks


def flower_command(port: int, address: str, celery_app: str = DEFAULT_CELERY_APP) -> list[str]:
    """The ``celery flower`` command line; credentials stay in the environment, not argv."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        celery_app,
        "flower",
        f"--address={address}",
        f"--port={port}",
        "--url_prefix=flower",
    ]


def run_flower(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(Role.FLOWER, startup_checks(Role.FLOWER))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    port = args.port or settings.flower_port
    address = args.address or settings.flower_address
    env = dict(os.environ)
    # Flower reads FLOWER_BASIC_AUTH itself. Only full-access users reach Flower: the web
    # proxy authenticates read-only users and forwards the first full-access credential.
    env["FLOWER_BASIC_AUTH"] = ",".join(
        f"{c.username}:{c.password.get_secret_value()}" for c in settings.flower_credentials
    )
    command = flower_command(port, address, args.app) + list(args.flower_args)
    os.execvpe(command[0], command, env)  # noqa: S606 - replaces this process by design


def check_config(args: argparse.Namespace) -> int:
    roles = [Role(args.role)] if args.role else [Role.WEB, Role.WORKER, Role.BEAT, Role.FLOWER]
    failed = False
    for role in roles:
        try:
            load_settings(role, startup_checks(role))
        except SettingsError as error:
            print(error, file=sys.stderr)
            failed = True
        else:
            print(f"{role.value}: configuration OK")
    return 2 if failed else 0


def register(subparsers: Any) -> None:
    flower = subparsers.add_parser(
        "flower", help="run Flower behind its URL prefix, refusing to run without auth"
    )
    flower.add_argument("--port", type=int, default=None, help="default: FLOWER_PORT or 8008")
    flower.add_argument("--address", default=None, help="default: FLOWER_ADDRESS or 0.0.0.0")
    flower.add_argument(
        "--app", default=DEFAULT_CELERY_APP, help="the Celery app module (default: %(default)s)"
    )
    flower.add_argument(
        "flower_args", nargs=argparse.REMAINDER, help="extra options passed to Flower"
    )
    flower.set_defaults(handler=run_flower)

    config = subparsers.add_parser(
        "config", help="validate the configuration of one process kind, or all"
    )
    config.add_argument("--role", choices=[r.value for r in Role if r is not Role.CELERY])
    config.set_defaults(handler=check_config)
