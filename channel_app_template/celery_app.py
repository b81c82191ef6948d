"""The Celery application shared by the worker, beat and Flower processes.

``celery -A channel_app_template.celery_app worker|beat|flower`` imports this module.
Broker settings are validated on import; the worker additionally validates what its
tasks need (Omnitron access) before it consumes anything, and Flower refuses to start
without authentication.
"""

from __future__ import annotations

import sys
from typing import Any

from celery import Celery, signals

from channel_app_template.observability import init_sentry
from channel_app_template.settings import (
    Role,
    Settings,
    SettingsError,
    exit_with,
    load_settings,
    load_settings_or_exit,
)

TASK_MODULES = ["channel_app_template.tasks"]


def celery_config(settings: Settings) -> dict[str, Any]:
    """Production defaults; tasks are written to be idempotent, so late acks are safe."""
    return {
        "broker_url": settings.broker_dsn,
        "result_backend": settings.broker_dsn,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        # A task is acknowledged only once it has finished, and re-queued if the worker
        # process dies under it: a crash never loses a sync run.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Must exceed the longest task, or Redis hands an unacknowledged task to another
        # worker while the first is still running it.
        "broker_transport_options": {"visibility_timeout": 6 * 3600},
        "result_backend_transport_options": {"visibility_timeout": 6 * 3600},
        "broker_connection_retry_on_startup": True,
        "worker_max_tasks_per_child": 200,
        "worker_max_memory_per_child": 512_000,  # KiB: recycle a child that grew past 500 MB
        "result_expires": 24 * 3600,
        "result_extended": True,
        "task_track_started": True,
        # Flower builds its task list, task pages and metrics from events.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": {},
    }


def create_celery_app(settings: Settings) -> Celery:
    """Build the Celery app for ``settings`` (tests build their own with other settings)."""
    app = Celery("channel_app_template", include=TASK_MODULES)
    app.conf.update(celery_config(settings))
    return app


def _invoked_as_flower(argv: list[str]) -> bool:
    return "flower" in argv[1:] and any("celery" in part for part in argv[:1])


def _load_for_this_process() -> Settings:
    if _invoked_as_flower(sys.argv):
        return load_settings_or_exit(Role.FLOWER)
    return load_settings_or_exit(Role.CELERY)


settings = _load_for_this_process()
app = create_celery_app(settings)


@signals.celeryd_init.connect
def _validate_worker(**_: Any) -> None:
    """The worker runs flows, so it needs Omnitron access: check before consuming."""
    try:
        worker_settings = load_settings(Role.WORKER)
    except SettingsError as error:
        exit_with(error)
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(worker_settings, [CeleryIntegration()])


@signals.beat_init.connect
def _start_beat_sentry(**_: Any) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(load_settings_or_exit(Role.BEAT), [CeleryIntegration(monitor_beat_tasks=True)])
