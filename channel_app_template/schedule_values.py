"""What one schedule entry may be: seconds within bounds, a crontab string, or ``null``.

Below the settings on purpose: :mod:`channel_app_template.settings` reads ``BEAT_SCHEDULE``
with these rules (its JSON shape and each value's bounds, for every process), while the
names a schedule may use belong to the flow registry, far above it
(:mod:`channel_app_template.core.run.flows`), and are checked by the processes that load
it (:func:`channel_app_template.schedule.unknown_task_problems`). The registry's own
defaults are held to the same rules.

``NaN``/``Infinity`` and numbers too large for a float are refused like any other bad
value: beat would otherwise crash or flood the broker.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery.schedules import crontab

__all__ = [
    "DAY",
    "MAX_CRONTAB_LENGTH",
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "Interval",
    "crontab_of",
    "read_schedule_json",
    "value_problem",
    "value_problems",
]

Interval = float | str | None
"""Seconds between runs, a crontab string (``"15 3 * * *"``), or ``None``: not scheduled."""

DAY = 24 * 3600
MIN_INTERVAL = 1.0  # a faster schedule only queues runs that skip on the flow's lock
MAX_INTERVAL = 31.0 * DAY  # longer: use a crontab string
MAX_CRONTAB_LENGTH = 100


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number of seconds")


def read_schedule_json(raw: str) -> dict[str, Any]:
    """``raw`` as a JSON object of name -> value; ``ValueError`` (naming no value) if it
    is not one. The values are checked by :func:`value_problems`."""
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("must be a JSON object of task name -> schedule")
    return data


def value_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be ``name``'s schedule, or None if it can."""
    if value is None or _valid(value):
        return None
    return (
        f"{name[:80]} must be seconds ({MIN_INTERVAL:g} to {MAX_INTERVAL:.0f}), "
        "a crontab string or null"
    )


def value_problems(data: dict[str, Any]) -> list[str]:
    """One line per entry of ``data`` whose value is out of bounds, in order."""
    return [p for name, value in data.items() if (p := value_problem(name, value)) is not None]


def _valid(value: object) -> bool:
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
            crontab_of(value)
        except ValueError:
            return False
        return True
    return False


def crontab_of(text: str) -> crontab:
    """Celery's crontab for ``"minute hour day-of-month month day-of-week"``."""
    from celery.schedules import crontab

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
