"""The Celery application shared by the worker, beat and Flower processes.

``celery -A channel_app_template.celery_app worker|beat|flower`` imports this module.
Settings are validated on import for the process named on the command line: the worker
needs Omnitron access before it consumes anything, the worker and beat need integration
modules that import, Flower refuses to start without authentication, every one refuses a
``BEAT_SCHEDULE`` naming a task the registry does not have, and any other use needs only
the broker. Every problem is listed at once and the process exits with 2.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from celery import signals

from channel_app_template.celery_config import create_celery_app, name_this_worker
from channel_app_template.logs import (
    adopt_handlers,
    capture_warnings,
    configure_logging,
    json_notice,
)
from channel_app_template.memory import cap_malloc_arenas
from channel_app_template.observability import init_sentry, register_settings_secrets
from channel_app_template.processes import startup_checks
from channel_app_template.safe_task import SafeTask
from channel_app_template.settings import Role, Settings, load_settings_or_exit

__all__ = ["app", "role_from_argv", "settings"]


def role_from_argv(argv: list[str]) -> Role:
    """Which Celery process imports us, from its command line (``celery -A ... worker``)."""
    for word in argv[1:]:
        if word in (Role.WORKER.value, Role.BEAT.value, Role.FLOWER.value):
            return Role(word)
    return Role.CELERY


def _load_for_this_process() -> tuple[Role, Settings]:
    role = role_from_argv(sys.argv)
    return role, load_settings_or_exit(role, startup_checks(role))


role, settings = _load_for_this_process()
register_settings_secrets(settings)
app = create_celery_app(settings)
name_this_worker(sys.argv, os.environ, os.getpid())
# Before any task is declared: every task, ours and a project's own, redacts what it emits.
app.task_cls = SafeTask
if role is Role.FLOWER:
    # Flower (through tornado) adds a root handler only when there is none: ours comes first.
    configure_logging(settings)


def _banners_as_log_records(celery: Any) -> None:
    """With ``LOG_FORMAT=json`` the worker's and beat's start-up banners, which Celery
    prints, become one log record each, so every line of output is a JSON object."""
    banner_logger = logging.getLogger("channel_app_template.start")

    class Worker(celery.subclass_with_self("celery.apps.worker:Worker")):  # type: ignore[misc]
        def emit_banner(self) -> None:
            info = self.startup_info(artlines=False) + (self.extra_info() or "")
            banner_logger.info("worker %s starting\n%s", self.hostname, info.strip())

    class Beat(celery.subclass_with_self("celery.apps.beat:Beat")):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "quiet": True})

        def start_scheduler(self) -> None:
            self.setup_logging()
            banner_logger.info("beat starting (schedule file %s)", self.schedule)
            super().start_scheduler()

    celery.Worker, celery.Beat = Worker, Beat


if settings.log_format == "json":
    _banners_as_log_records(app)
    capture_warnings(settings)
    import celery.apps.worker

    # Shutdown notices ("worker: Warm shutdown") are printed from signal handlers.
    celery.apps.worker.safe_say = json_notice


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _format_logs(logger: logging.Logger, **_: Any) -> None:
    """Celery made its handlers (stderr or --logfile); they get our format and redaction."""
    adopt_handlers(logger, settings)
    from celery.utils.log import get_multiprocessing_logger

    multiprocessing_logger = get_multiprocessing_logger()
    if multiprocessing_logger is not None:
        adopt_handlers(multiprocessing_logger, settings)


@signals.worker_process_init.connect
def _cap_memory(**_: Any) -> None:
    """Each pool process keeps a bounded number of glibc arenas (see :mod:`.memory`)."""
    cap_malloc_arenas()


@signals.celeryd_init.connect
def _start_worker_sentry(**_: Any) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(settings, [CeleryIntegration()])


@signals.beat_init.connect
def _start_beat_sentry(**_: Any) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration

    init_sentry(settings, [CeleryIntegration(monitor_beat_tasks=True)])
