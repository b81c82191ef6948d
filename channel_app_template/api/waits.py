"""Requests that would make Flower wait, and the limits the proxy puts on them.

Flower runs every broker and result-backend call in a thread pool behind a semaphore
of five (``flower/utils/blocking.py``), and its worker inspections share that pool. A
request that waits inside Flower holds one of those few slots, and then everybody's
triggers queue behind it. Flower 2.2.0 waits in these places (source read and run):

* ``GET /api/task/result/<id>?timeout=S`` blocks a slot for up to S seconds (``1e9``:
  for good, even after the client left). ``timeout`` may also come in a form body.
* ``POST /api/task/apply/<name>`` publishes and then blocks a slot until the task ends,
  bounded only by an optional ``timeout`` in the JSON body.
* Worker inspection: ``GET /api/workers?refresh=...`` (with or without ``workername``)
  and the ``GET /worker/<name>`` page run up to eight ``inspect`` broadcasts, each
  waiting a second for replies that an unknown or offline worker never sends.
* Control commands that wait for a reply (pool grow/shrink/autoscale/restart,
  add/cancel consumer, task time and rate limits): up to a second each.

What the proxy does instead (:class:`WaitKind`):

* **RESULT** and **APPLY** never wait inside Flower. The proxy strips ``timeout`` and
  polls the result itself (each poll is a millisecond read), for at most
  ``PROXY_MAX_WAIT`` seconds; ``apply`` becomes ``async-apply`` plus that wait and
  answers in ``apply``'s shape. A client that leaves stops the polling.
* **FLOWER** waits (inspections and control replies) pass, but at most
  ``PROXY_FLOWER_WAITS`` at a time across all users, and inspections only for workers
  Flower lists as online (which answer in milliseconds); others get 404 at the proxy.
* Every waiting request counts against its user's ``PROXY_WAITS_PER_USER`` (429 past
  it), and the proxy polls for at most ``PROXY_MAX_WAITS`` requests at once (503).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

from celery import states

from channel_app_template.settings import Settings

__all__ = [
    "BadWait",
    "Busy",
    "OnlineWorkers",
    "WaitKind",
    "WaitLimiter",
    "WaitLimits",
    "apply_answer",
    "classify",
    "inspected_worker",
    "is_ready",
    "poll_delays",
    "query_values",
    "requested_timeout",
    "task_id_of",
    "without_parameter",
]

RESULT_PREFIX = b"/flower/api/task/result/"
APPLY_PREFIX = b"/flower/api/task/apply/"
ASYNC_APPLY_PREFIX = b"/flower/api/task/async-apply/"
WORKER_PAGE_PREFIX = b"/flower/worker/"
WORKERS_API = b"/flower/api/workers"
# Control routes whose Flower handler broadcasts with reply=True.
REPLYING_CONTROLS = (
    b"/flower/api/worker/pool/",
    b"/flower/api/worker/queue/",
    b"/flower/api/task/timeout/",
    b"/flower/api/task/rate-limit/",
)
FIRST_POLL_DELAY = 0.05
MAX_POLL_DELAY = 0.5


class WaitKind(enum.Enum):
    RESULT = "result"  # the proxy polls a task's result
    APPLY = "apply"  # async-apply, then the proxy polls the result
    FLOWER = "flower"  # Flower itself waits for workers' replies (about a second at most)


def classify(method: str, path: bytes, query: bytes) -> WaitKind | None:
    """What kind of wait this request (on its upstream path) would cause, if any."""
    if method == "GET":
        if path.startswith(RESULT_PREFIX):
            return WaitKind.RESULT if b"timeout" in unquote_to_lower(query) else None
        if path.startswith(WORKER_PAGE_PREFIX):
            return WaitKind.FLOWER
        if path == WORKERS_API and query and b"refresh" in unquote_to_lower(query):
            return WaitKind.FLOWER
        return None
    if method == "POST":
        if path.startswith(APPLY_PREFIX):
            return WaitKind.APPLY
        if path.startswith(REPLYING_CONTROLS):
            return WaitKind.FLOWER
    return None


def unquote_to_lower(query: bytes) -> bytes:
    """A cheap, conservative view of a query for keyword tests (false positives are fine)."""
    if b"%" in query or b"+" in query:
        return unquote_plus(query.decode("latin-1")).encode("latin-1").lower()
    return query.lower()


def query_values(query: bytes, name: str) -> list[str]:
    """Every value of ``name`` in ``query``, decoded as Tornado decodes it."""
    values = []
    for piece in query.split(b"&"):
        key, _, value = piece.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == name:
            values.append(unquote_plus(value.decode("latin-1")))
    return values


def without_parameter(query: bytes, name: str) -> bytes:
    """``query`` minus every ``name=...``; the rest stays byte for byte."""
    kept = [
        piece
        for piece in query.split(b"&")
        if piece and unquote_plus(piece.partition(b"=")[0].decode("latin-1")) != name
    ]
    return b"&".join(kept)


class BadWait(ValueError):
    """A ``timeout`` Flower could not parse either; the client gets 400."""


def requested_timeout(raw: object) -> float | None:
    """Flower's reading of a ``timeout`` value: a float, ``None`` when absent."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadWait("Invalid timeout")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        raise BadWait("Invalid timeout") from None
    if math.isnan(value):
        raise BadWait("Invalid timeout")
    return value


def poll_delays(deadline: float, clock: Callable[[], float] = time.monotonic) -> list[float]:
    """How long to sleep before each further poll until ``deadline`` (for tests and docs)."""
    delays, delay, now = [], FIRST_POLL_DELAY, clock()
    while now < deadline:
        step = min(delay, deadline - now)
        delays.append(step)
        now += step
        delay = min(delay * 2, MAX_POLL_DELAY)
    return delays


def inspected_worker(path: bytes, query: bytes) -> str | None:
    """The worker a FLOWER-kind request inspects, ``""`` for all workers, ``None`` if it
    inspects nothing (a control command)."""
    if path.startswith(WORKER_PAGE_PREFIX):
        return unquote(path[len(WORKER_PAGE_PREFIX) :].decode("latin-1"), encoding="utf-8")
    if path == WORKERS_API:
        names = query_values(query, "workername")
        return names[-1].strip() if names else ""
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_ready(body: bytes) -> bool:
    """The task has ended and the answer holds its outcome.

    Flower reads ``state`` and then, separately, whether the task is ready: a task that
    ends between the two reads comes back as ``STARTED`` with its ``result`` (a torn read,
    seen on loaded machines). Only a ready state with a result counts; a torn answer is
    polled again and the next read is whole.
    """
    data = _json_object(body)
    return data is not None and "result" in data and data.get("state") in states.READY_STATES


def task_id_of(body: bytes) -> str | None:
    data = _json_object(body)
    task_id = data.get("task-id") if data else None
    return task_id if isinstance(task_id, str) and task_id else None


def apply_answer(task_id: str, result_body: bytes) -> bytes | None:
    """What Flower's ``apply`` answers, built from its result API's answer."""
    data = _json_object(result_body)
    if data is None or "state" not in data:
        return None
    answer: dict[str, Any] = {"task-id": task_id}
    for key in ("result", "traceback"):
        if key in data:
            answer[key] = data[key]
    answer["state"] = data["state"]
    return json.dumps(answer).replace("</", "<\\/").encode()


@dataclass(frozen=True)
class WaitLimits:
    max_wait: float = 30.0
    per_user: int = 4
    max_polling: int = 64
    flower_slots: int = 1
    slot_timeout: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WaitLimits:
        return cls(
            max_wait=settings.proxy_max_wait,
            per_user=settings.proxy_waits_per_user,
            max_polling=settings.proxy_max_waits,
            flower_slots=settings.proxy_flower_waits,
            slot_timeout=settings.proxy_pool_timeout,
        )


class Busy(Exception):
    """A wait refused: ``status`` 429 (this user's limit) or 503 (everybody's)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WaitLimiter:
    """Counts waiting requests per user and in total, and hands out Flower's wait slots."""

    def __init__(self, limits: WaitLimits) -> None:
        self.limits = limits
        self._per_user: Counter[str] = Counter()
        self._polling = 0
        self._flower = asyncio.Semaphore(limits.flower_slots)
        self.refused_total = 0

    @contextlib.asynccontextmanager
    async def hold(self, user: str, kind: WaitKind) -> AsyncIterator[None]:
        if self._per_user[user] >= self.limits.per_user:
            self.refused_total += 1
            raise Busy(
                429,
                f"{user} already has {self.limits.per_user} waiting requests; "
                "wait for one to finish",
            )
        polling = kind is not WaitKind.FLOWER
        if polling and self._polling >= self.limits.max_polling:
            self.refused_total += 1
            raise Busy(503, "Too many waiting requests; try again shortly")
        self._per_user[user] += 1
        self._polling += polling
        try:
            if polling:
                yield
            else:
                await self._flower_slot()
                try:
                    yield
                finally:
                    self._flower.release()
        finally:
            self._polling -= polling
            self._per_user[user] -= 1
            if not self._per_user[user]:
                del self._per_user[user]

    async def _flower_slot(self) -> None:
        try:
            await asyncio.wait_for(self._flower.acquire(), self.limits.slot_timeout)
        except TimeoutError:
            self.refused_total += 1
            raise Busy(503, "Flower is busy asking the workers; try again shortly") from None

    def summary(self) -> dict[str, int]:
        return {
            "waiting": sum(self._per_user.values()),
            "polling": self._polling,
            "refused": self.refused_total,
        }


class OnlineWorkers:
    """The worker names Flower lists as online, fetched at most every ``ttl`` seconds
    (from its in-memory state: no broadcast), one fetch at a time."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, bool]]],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._names: frozenset[str] = frozenset()
        self._fetched = -math.inf
        self._lock = asyncio.Lock()

    async def names(self) -> frozenset[str]:
        if self._clock() - self._fetched < self._ttl:
            return self._names
        async with self._lock:
            if self._clock() - self._fetched >= self._ttl:
                status = await self._fetch()
                self._names = frozenset(name for name, online in status.items() if online)
                self._fetched = self._clock()
        return self._names
