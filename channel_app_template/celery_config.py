"""Celery configuration, kept apart from :mod:`channel_app_template.celery_app` so that the
web process can talk to the broker (health checks) without becoming a Celery process.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from channel_app_template.schedule import beat_schedule
from channel_app_template.settings import Settings

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
        "beat_schedule": beat_schedule(settings.beat_schedule),
    }


def create_celery_app(settings: Settings) -> Celery:
    """Build the Celery app for ``settings`` (tests build their own with other settings)."""
    app = Celery("channel_app_template", include=TASK_MODULES)
    app.conf.update(celery_config(settings))
    return app
