"""Omnitron's wire formats for dates and decimals, and a clock that never repeats a timestamp.

A strictly increasing clock matters: ``updates/`` views compare ``modified_date`` with the
``version_date`` a client echoes back, so two writes must never share a timestamp.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# ISO_FORMAT's own output (years 1000-9999): parsing and formatting it again gives it back
_CANONICAL = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def format_datetime(value: datetime) -> str:
    """``2023-12-28T10:28:17.186730Z``: microseconds and ``Z`` always, so strings sort as times."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime(ISO_FORMAT)


def parse_datetime(text: str) -> str:
    """Accept ISO-8601 (``Z``/offset/naive) and ``YYYY-MM-DD HH:MM:SS[.f]``; return canonical.

    Raises ``ValueError`` for anything else. Naive values are taken as UTC (# [INF]).
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty datetime")
    if _CANONICAL.fullmatch(raw):  # what we hand out, echoed back (version_date): check only
        datetime.fromisoformat(raw[:-1])
        return raw
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    parsed = datetime.fromisoformat(candidate)
    return format_datetime(parsed)


def parse_decimal(value: object, places: int = 2) -> str:
    """Decimals travel as JSON strings with fixed places (``"645670668.11"``)."""
    if isinstance(value, bool):
        raise ValueError("not a decimal")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("not a decimal") from exc
    if not number.is_finite():
        raise ValueError("not a finite decimal")
    return str(number.quantize(Decimal(1).scaleb(-places)))


class Clock:
    """Wall-clock timestamps, nudged forward by 1 µs when two calls land on the same instant.

    Kept as integer microseconds; the date-and-seconds text is formatted once per second (a
    sync stamps every row it writes, so ``strftime`` per stamp was a visible cost)."""

    def __init__(self) -> None:
        self._last_us = 0
        self._second = -1
        self._prefix = ""
        self._lock = threading.Lock()

    def now(self) -> str:
        with self._lock:
            stamp = max(time.time_ns() // 1000, self._last_us + 1)
            self._last_us = stamp
            second, micro = divmod(stamp, 1_000_000)
            if second != self._second:
                self._second = second
                self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            return f"{self._prefix}.{micro:06d}Z"

    def observe(self, stamp: str) -> None:
        """Never hand out a time earlier than one already stored (e.g. after a restart)."""
        moment = datetime.strptime(stamp, ISO_FORMAT).replace(tzinfo=UTC)
        micros = (moment - _EPOCH) // _ONE_US
        with self._lock:
            self._last_us = max(self._last_us, micros)


_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
