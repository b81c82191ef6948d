"""Which ``modified_date`` values the engine may record as a ``version_date``.

The ``version_date`` recorded for an object is what Omnitron compares the object's next
``modified_date`` with (``updates`` views return objects with ``modified_date >
version_date``). So a date the engine records must be one Omnitron can parse (a bad one
makes it refuse the whole batch) and must not lie in the future: a ``version_date`` of 2099
would hide every real edit until 2099. Such an object is an error for itself: reported,
never recorded, and sent once its date is sane again.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["date_problem", "parse_date"]


def parse_date(value: str | None) -> dt.datetime | None:
    """An Omnitron date (ISO 8601 with ``Z`` or an offset, or ``YYYY-MM-DD HH:MM:SS[.f]``)
    as an aware datetime; naive values are UTC. ``None`` for anything else."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def date_problem(value: str | None, *, now: dt.datetime, tolerance: float) -> str | None:
    """Why ``value`` cannot be recorded as a ``version_date`` (``None``: it can).

    ``tolerance`` is how many seconds ahead of ``now`` (this app's clock) a date may be:
    the clock skew allowed between Omnitron and this app.
    """
    if value is None or value == "":
        return "it has no modified_date, so it could never be recorded as synced"
    parsed = parse_date(value)
    if parsed is None:
        return "its modified_date is not a date Omnitron accepts as a version_date"
    ahead = (parsed - now).total_seconds()
    if ahead > tolerance:
        return (
            f"its modified_date {parsed.isoformat()} is {ahead:.0f}s ahead of this app's "
            f"clock (tolerance {tolerance:.0f}s); recording it would hide every later edit"
        )
    return None
