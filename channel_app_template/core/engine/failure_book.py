"""What the engine remembers about objects that failed, between runs (in Redis).

Omnitron's pending views forget most failures by themselves: a failed object gets an
``error`` action with the ``version_date`` it was read with, and comes back only once it
changes. Two things they cannot do, and this book does:

* **Reported once.** An object the engine will not record (an unreadable row without a
  usable date, a ``modified_date`` in the future) stays in the pending view. The book keeps
  a fingerprint of what was reported, so the next runs skip it quietly instead of
  reporting it every few minutes; a changed row is new again.
* **Re-sent with backoff.** Objects re-sent without a change of their own (a failed
  product whose price changed; a deletion the channel refused, which the ``deleted`` view
  keeps returning) count attempts: the n-th attempt waits ``backoff * 2**(n-1)`` seconds
  (at most a day), and after ``max_attempts`` the object is parked until an operator re-sends
  it (``resend_failed``) or it succeeds.

Entries hold pks, counters, times and hashes, never object values. Every hash expires
``RETENTION`` after its last write, so a channel that stops failing leaves nothing behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import redis

__all__ = ["MAX_BACKOFF", "Attempts", "FailureBook"]

KEY = "channel_app_template:failures:{channel}:{kind}:{model}"
MAX_BACKOFF = 24 * 3600.0
RETENTION = 30 * 24 * 3600  # seconds an untouched hash is kept
CHUNK = 500  # fields per HMGET/HDEL


@dataclass(frozen=True)
class Attempts:
    """The retry state of one object: attempts so far and when the next one may be made."""

    count: int
    next_try: float


class FailureBook:
    def __init__(
        self,
        client: redis.Redis,
        channel_id: int,
        *,
        max_attempts: int = 5,
        backoff: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_attempts < 1 or not backoff > 0:
            raise ValueError("max_attempts and backoff must be positive")
        self.client = client
        self.channel_id = channel_id
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.clock = clock

    def _key(self, kind: str, model: str) -> str:
        return KEY.format(channel=self.channel_id, kind=kind, model=model)

    # --- reported once -------------------------------------------------------------------

    def first_report(self, model: str, pk: int, fingerprint: str) -> bool:
        """Remember that ``pk`` was reported in the state ``fingerprint``; ``True`` when it
        was not reported in that state before (so the caller reports it now)."""
        key = self._key("reported", model)
        with self.client.pipeline() as pipe:
            pipe.hget(key, str(pk))
            pipe.hset(key, str(pk), fingerprint)
            pipe.expire(key, RETENTION)
            before, _, _ = pipe.execute()
        return _text(before) != fingerprint

    # --- attempts ------------------------------------------------------------------------

    def attempts(self, model: str, pks: Iterable[int]) -> dict[int, Attempts]:
        """The recorded attempts of those of ``pks`` that have any."""
        found: dict[int, Attempts] = {}
        key = self._key("retries", model)
        for part in _chunks(list(dict.fromkeys(pks))):
            for pk, raw in zip(part, self.client.hmget(key, [str(p) for p in part]), strict=True):
                if raw is not None:
                    data = json.loads(raw)
                    found[pk] = Attempts(int(data["n"]), float(data["next"]))
        return found

    def split(self, model: str, pks: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
        """``pks`` as (due now, waiting for their next try, parked)."""
        known = self.attempts(model, pks)
        now = self.clock()
        due, waiting, parked = [], [], []
        for pk in pks:
            state = known.get(pk)
            if state is None:
                due.append(pk)
            elif state.count >= self.max_attempts:
                parked.append(pk)
            elif state.next_try > now:
                waiting.append(pk)
            else:
                due.append(pk)
        return due, waiting, parked

    def attempted(self, model: str, pks: Sequence[int]) -> None:
        """One more attempt for each of ``pks``, the next one allowed after the backoff."""
        if not pks:
            return
        known = self.attempts(model, pks)
        now = self.clock()
        values: dict[bytes | bytearray | memoryview | str | int | float, str] = {}
        for pk in pks:
            count = (known[pk].count if pk in known else 0) + 1
            wait = min(MAX_BACKOFF, self.backoff * 2 ** min(count - 1, 32))
            values[str(pk)] = json.dumps({"n": count, "next": now + wait})
        key = self._key("retries", model)
        with self.client.pipeline() as pipe:
            pipe.hset(key, mapping=values)
            pipe.expire(key, RETENTION)
            pipe.execute()

    def parked(self, model: str) -> list[int]:
        """Objects whose automatic attempts are used up (an operator may re-send them)."""
        out = []
        for field, raw in self.client.hscan_iter(self._key("retries", model), count=CHUNK):
            if int(json.loads(raw)["n"]) >= self.max_attempts:
                out.append(int(field))
        return sorted(out)

    # --- where the scan for automatic re-sends goes on -----------------------------------

    def cursor(self, model: str) -> int:
        """The page of failed ``model`` objects the next scan starts at (1 at first)."""
        raw = self.client.get(self._key("cursor", model))
        text = _text(raw)
        return int(text) if text and text.isdigit() and int(text) >= 1 else 1

    def set_cursor(self, model: str, page: int) -> None:
        self.client.set(self._key("cursor", model), str(max(1, page)), ex=RETENTION)

    # --- forgetting ----------------------------------------------------------------------

    def succeeded(self, model: str, pks: Iterable[int]) -> None:
        """An object that got through has no past: its attempts and reports are dropped."""
        self.forget(model, pks)

    def forget(self, model: str, pks: Iterable[int] | None = None) -> int:
        """Drop what is known about ``pks`` (all objects of ``model`` when ``None``)."""
        keys = [self._key("retries", model), self._key("reported", model)]
        if pks is None:
            return int(self.client.delete(*keys))
        dropped = 0
        for part in _chunks([str(pk) for pk in dict.fromkeys(pks)]):
            for key in keys:
                dropped += int(self.client.hdel(key, *part))
        return dropped


V = TypeVar("V")


def _chunks(values: Sequence[V]) -> list[list[V]]:
    return [list(values[i : i + CHUNK]) for i in range(0, len(values), CHUNK)]


def _text(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return value
