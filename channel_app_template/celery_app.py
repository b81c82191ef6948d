"""The Celery application shared by the worker, beat and Flower processes.

``celery -A channel_app_template.celery_app worker|beat|flower`` imports this module.
Settings are validated on import for the process named on the command line: the worker
needs Omnitron access before it consumes anything, Flower refuses to start without
authentication, and any other use needs only the broker.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from celery import signals

from channel_app_template.celery_config import create_celery_app, name_this_worker
from channel_app_template.logs import redact_handlers
from channel_app_template.observability import init_sentry
from channel_app_template.settings import Role, Settings, load_settings_or_exit


def role_from_argv(argv: list[str]) -> Role:
    """Which Celery process imports us, from its command line (``celery -A ... worker``)."""
    for word in argv[1:]:
        if word in (Role.WORKER.value, Role.BEAT.value, Role.FLOWER.value):
            return Role(word)
    return Role.CELERY


def _load_for_this_process() -> Settings:
    return load_settings_or_exit(role_from_argv(sys.argv))


settings = _load_for_this_process()
app = create_celery_app(settings)
name_this_worker(sys.argv, os.environ, os.getpid())


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _redact_logs(logger: logging.Logger, **_: Any) -> None:
    redact_handlers(logger, settings)
    redact_handlers(logging.getLogger(), settings)


@signals.celeryd_init.connect
def _start_worker_sentry(**_: Any) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(settings, [CeleryIntegration()])


@signals.beat_init.connect
def _start_beat_sentry(**_: Any) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(settings, [CeleryIntegration(monitor_beat_tasks=True)])
