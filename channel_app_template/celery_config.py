"""Celery configuration, kept apart from :mod:`channel_app_template.celery_app` so that the
web process can talk to the broker (health checks) without becoming a Celery process.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from celery import Celery

from channel_app_template.schedule import beat_schedule
from channel_app_template.settings import Settings

__all__ = [
    "NODENAME_VARIABLE",
    "celery_config",
    "create_celery_app",
    "name_this_worker",
    "worker_nodename",
]

TASK_MODULES = ["channel_app_template.tasks"]
# `celery worker --hostname`, as click reads it from the environment (celery's CLI uses
# auto_envvar_prefix="CELERY"); checked after the app module is imported.
NODENAME_VARIABLE = "CELERY_WORKER_HOSTNAME"
HOSTNAME_FLAGS = ("-n", "--hostname")


def worker_nodename(argv: Sequence[str], environ: MutableMapping[str, str], pid: int) -> str | None:
    """A node name unique to this worker process, or None when one was given.

    Celery names every worker ``celery@<host>`` unless told otherwise, so two workers on one
    host (``honcho start -c worker=2``, or ``max: auto`` on a shared host) answer pings,
    fill Flower and count in ``/health`` as one. The pid tells processes on one host apart,
    the host (``%h``) tells hosts apart. An explicit ``-n``/``--hostname`` or
    ``CELERY_WORKER_HOSTNAME`` is kept as given.
    """
    words = list(argv[1:])
    if "worker" not in words or environ.get(NODENAME_VARIABLE):
        return None
    for word in words[words.index("worker") + 1 :]:
        if word in HOSTNAME_FLAGS or word.startswith("--hostname="):
            return None
        if word.startswith("-n") and not word.startswith("--"):
            return None
    return f"worker-{pid}@%h"


def name_this_worker(argv: Sequence[str], environ: MutableMapping[str, str], pid: int) -> None:
    """Give this ``celery ... worker`` process a unique node name unless it has one.

    Must run while the app module is imported: celery parses the ``worker`` sub-command's
    options (and so reads :data:`NODENAME_VARIABLE`) only after that. Works whether the
    Procfile line runs through a shell or not, since nothing is expanded on it.
    """
    name = worker_nodename(argv, environ, pid)
    if name is not None:
        environ[NODENAME_VARIABLE] = name


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
        # Reconnect for as long as the broker is away (celery's default gives up after 100
        # attempts, about 50 minutes at its 30 s cap, and the worker then exits).
        "broker_connection_max_retries": None,
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
