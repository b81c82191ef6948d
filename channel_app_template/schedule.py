"""The default beat schedule, and ``BEAT_SCHEDULE`` overrides from the environment.

Setup flows run nightly; catalog flows run every few minutes (``insert_and_update_*``
already covers updates, so the ``update_*`` tasks are for manual runs and are not
scheduled); check flows run often because they are cheap when nothing is pending.
Every entry expires after its own interval, so a busy worker never works through a
backlog of stale runs, and each flow's lock keeps two runs from overlapping.

``BEAT_SCHEDULE`` is a JSON object ``{"task name": value}``: a number of seconds from
:data:`MIN_INTERVAL` to :data:`MAX_INTERVAL`, a crontab string (``"15 3 * * *"``), or
``null`` to switch the task off. ``NaN``/``Infinity`` and numbers too large for a float are
refused like any other bad value: beat would otherwise crash or flood the broker.
"""

from __future__ import annotations

import json
import math
from typing import Any

from celery.schedules import crontab

PREFIX = "channel_app_template.app.tasks."
Interval = float | str | None

DEFAULT_SCHEDULE: dict[str, Interval] = {
    "update_channel_conf_schema": "5 3 * * *",
    "create_or_update_category_tree_and_nodes": "15 3 * * *",
    "create_or_update_category_attributes": "30 3 * * *",
    "create_or_update_attributes": "45 3 * * *",
    "insert_and_update_products": 300,
    "check_products": 120,
    "delete_products": 900,
    "check_delete_products": 300,
    "insert_and_update_stocks": 120,
    "check_stocks": 120,
    "insert_and_update_prices": 120,
    "check_prices": 120,
    "insert_and_update_images": 900,
    "check_images": 300,
    "fetch_orders": 60,
    "update_orders": 120,
    "check_orders": 120,
    "fetch_and_update_order_items": 120,
    "fetch_and_create_cancel": 120,
    "fetch_and_create_cancellation_requests": 300,
    "update_cancellation_requests": 300,
}
DAY = 24 * 3600
MIN_INTERVAL = 1.0  # a faster schedule only queues runs that skip on the flow's lock
MAX_INTERVAL = 31.0 * DAY  # longer: use a crontab string
MAX_CRONTAB_LENGTH = 100
MANUAL_ONLY = (
    "ping",
    "update_products",
    "update_stocks",
    "update_prices",
    "update_images",
    "list_parked_orders",
    "retry_parked_orders",
    "resend_failed",
)
TASK_NAMES = frozenset(DEFAULT_SCHEDULE) | frozenset(MANUAL_ONLY)


__all__ = [
    "DEFAULT_SCHEDULE",
    "MANUAL_ONLY",
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "PREFIX",
    "TASK_NAMES",
    "ScheduleError",
    "beat_schedule",
    "parse_overrides",
]


class ScheduleError(ValueError):
    """``BEAT_SCHEDULE`` is not usable; the message names every bad entry."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number of seconds")


def parse_overrides(raw: str | None, known: frozenset[str] = TASK_NAMES) -> dict[str, Interval]:
    if not raw:
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ScheduleError(f"BEAT_SCHEDULE: not JSON ({error.msg})") from None
    except ValueError as error:
        raise ScheduleError(f"BEAT_SCHEDULE: {error}") from None
    if not isinstance(data, dict):
        raise ScheduleError("BEAT_SCHEDULE: must be a JSON object of task name -> schedule")
    problems = []
    for name, value in data.items():
        if name not in known:
            problems.append(f"BEAT_SCHEDULE: unknown task {name[:80]!r}")
        elif value is not None and not _valid(value):
            problems.append(
                f"BEAT_SCHEDULE: {name} must be seconds ({MIN_INTERVAL:g} to {MAX_INTERVAL:.0f}), "
                "a crontab string or null"
            )
    if problems:
        raise ScheduleError("; ".join(problems))
    return data


def _valid(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        try:
            seconds = float(value)  # a huge JSON integer overflows here
        except OverflowError:
            return False
        return math.isfinite(seconds) and MIN_INTERVAL <= seconds <= MAX_INTERVAL
    if isinstance(value, str):
        if len(value) > MAX_CRONTAB_LENGTH:
            return False
        try:
            _crontab(value)
        except ValueError:
            return False
        return True
    return False


def _crontab(text: str) -> crontab:
    parts = text.split()
    if len(parts) != 5:
        raise ValueError("a crontab has five fields")
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


def beat_schedule(overrides: str | None) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: defaults, then overrides; ``None`` entries dropped."""
    merged: dict[str, Interval] = {**DEFAULT_SCHEDULE, **parse_overrides(overrides)}
    schedule: dict[str, dict[str, Any]] = {}
    for name, value in merged.items():
        if value is None:
            continue
        every: Any = float(value) if isinstance(value, int | float) else _crontab(value)
        expires = float(value) if isinstance(value, int | float) else DAY
        schedule[name] = {
            "task": PREFIX + name,
            "schedule": every,
            "options": {"expires": expires},
        }
    return schedule
