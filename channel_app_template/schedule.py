"""Beat's schedule: the registry's defaults, then ``BEAT_SCHEDULE`` overrides.

The defaults are the flows' own (:data:`channel_app_template.core.run.flows.FLOWS`): setup
flows nightly, catalog and order flows every few minutes, manual flows not at all. Every
entry expires after its own interval, so a busy worker never works through a backlog of
stale runs, and each flow's lock keeps two runs from overlapping.

``BEAT_SCHEDULE`` is a JSON object ``{"task name": value}``: a number of seconds from
:data:`MIN_INTERVAL` to :data:`MAX_INTERVAL`, a crontab string (``"15 3 * * *"``), or
``null`` to switch the task off. The settings check its shape and values for every process
(:mod:`channel_app_template.schedule_values`); the names it uses are checked against the
registry here, at the start of every process that loads the Celery app
(:func:`unknown_task_problems`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core.run.flows import FLOWS, TASK_PREFIX
from channel_app_template.schedule_values import (
    DAY,
    MAX_INTERVAL,
    MIN_INTERVAL,
    Interval,
    crontab_of,
    read_schedule_json,
    value_problem,
)

if TYPE_CHECKING:
    from channel_app_template.settings import Settings

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
    "unknown_task_problems",
]

PREFIX = TASK_PREFIX
DEFAULT_SCHEDULE: dict[str, Interval] = FLOWS.default_schedule()
MANUAL_ONLY = FLOWS.manual()
TASK_NAMES = frozenset(FLOWS.names)


class ScheduleError(ValueError):
    """``BEAT_SCHEDULE`` is not usable; the message names every bad entry."""


def _unknown(name: str, known: frozenset[str]) -> str | None:
    return None if name in known else f"unknown task {name[:80]!r}"


def parse_overrides(raw: str | None, known: frozenset[str] = TASK_NAMES) -> dict[str, Interval]:
    """``BEAT_SCHEDULE`` read whole: every unknown name and bad value, or the overrides."""
    if not raw:
        return {}
    try:
        data = read_schedule_json(raw)
    except ValueError as error:
        raise ScheduleError(f"BEAT_SCHEDULE: {error}") from None
    problems = [
        f"BEAT_SCHEDULE: {problem}"
        for name, value in data.items()
        if (problem := _unknown(name, known) or value_problem(name, value)) is not None
    ]
    if problems:
        raise ScheduleError("; ".join(problems))
    return data


def unknown_task_problems(settings: Settings) -> list[str]:
    """Start-up check: every name ``BEAT_SCHEDULE`` uses is a task of the registry (its
    shape and values are the settings' own checks, listed with the other settings)."""
    if not settings.beat_schedule:
        return []
    try:
        data = read_schedule_json(settings.beat_schedule)
    except ValueError:
        return []  # the settings say why
    return [
        f"BEAT_SCHEDULE: {problem}"
        for name in data
        if (problem := _unknown(name, TASK_NAMES)) is not None
    ]


def beat_schedule(overrides: str | None) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: defaults, then overrides; ``None`` entries dropped."""
    merged: dict[str, Interval] = {**DEFAULT_SCHEDULE, **parse_overrides(overrides)}
    schedule: dict[str, dict[str, Any]] = {}
    for name, value in merged.items():
        if value is None:
            continue
        every: Any = float(value) if isinstance(value, int | float) else crontab_of(value)
        expires = float(value) if isinstance(value, int | float) else DAY
        schedule[name] = {
            "task": FLOWS.task_name(name),
            "schedule": every,
            "options": {"expires": expires},
        }
    return schedule
