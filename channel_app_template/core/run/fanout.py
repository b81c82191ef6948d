"""A big catalog send split over Celery workers: pk windows, claimed once each.

When a send run finds at least ``FANOUT_MIN_OBJECTS`` pending objects, the flow's task
(the coordinator) cuts the pending view into pk windows of about ``FANOUT_WINDOW``
objects: the pk of every ``FANOUT_WINDOW``-th pending object, one one-row read each, in
pk order. It sends one Celery task per window, as a group, and works on windows itself
too, from the last one backwards, until every window is done.

Each window is sent once: a worker claims it with a lease before sending it (the lease
lives while its holder lives) and marks it done after; a claimed or done window is left
alone. A worker killed in a window loses its lease within ``TASK_LOCK_TTL``; the window is
then claimed again, by its redelivered task (``acks_late``, ``reject_on_worker_lost``) or
by the coordinator, and sends what is still pending in it: objects a finished batch
committed are no longer pending, and the batch the dead worker left committed is failed
first (see :mod:`.commit_gate`). The coordinator waits for such windows, so a run that
fans out always ends with every window sent, or stopped by its budget.

The flow's single-flight lock stays with the coordinator from start to end; window tasks
extend it while they work (so a coordinator killed mid-run leaves the flow locked until
its last window task ends) and start no window once it is gone. Batches of one content
type stay one committed at a time across processes through the Redis commit gate.
Progress: every batch adds its objects to a counter in Redis, which the coordinator
reports as its task's ``done``/``total`` the whole time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import redis

from channel_app_template.akinon.pagination import Paginated
from channel_app_template.core.engine.flows import PkWindow
from channel_app_template.core.engine.resources import CatalogResource

__all__ = [
    "FANOUT_KINDS",
    "MAX_WINDOWS",
    "Dispatch",
    "FanOut",
    "RunState",
    "Window",
    "WindowOrder",
    "boundaries",
    "fans_out",
    "merge_summaries",
    "window_size",
    "windows_of",
]

FANOUT_KINDS = ("inserts", "updates")
"""The send runs that may fan out (deletions, retries and checks run in the flow's task)."""
MAX_WINDOWS = 1000  # per send run; a bigger catalog gets bigger windows
KEY_PREFIX = "channel_app_template:fanout:"

Dispatch = Callable[[list[dict[str, Any]]], None]
"""Sends one window task per order (the Celery side, :mod:`channel_app_template.tasks`)."""


@dataclass(frozen=True)
class Window:
    """Pending objects with ``after < pk <= upto``; None: no bound on that side."""

    index: int
    after: int | None
    upto: int | None


@dataclass(frozen=True)
class WindowOrder:
    """What a window task is sent: the window and the run and lease it belongs to."""

    run: str
    lock: str
    token: str
    resource: str
    kind: str
    list_id: int | None
    index: int
    after: int | None
    upto: int | None
    total: int = 0  # objects pending in the whole run when it fanned out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowOrder:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    @property
    def window(self) -> PkWindow:
        return PkWindow(self.after, self.upto)

    @property
    def claim(self) -> str:
        return f"fanout:{self.run}:{self.index}"


@dataclass(frozen=True)
class FanOut:
    """A flow task's permission to fan out: where window tasks go and the flow's lease."""

    dispatch: Dispatch
    lock: str
    token: str
    min_objects: int  # FANOUT_MIN_OBJECTS
    window: int  # FANOUT_WINDOW


def window_size(total: int, wanted: int) -> int:
    """``wanted`` objects per window, grown so that no run has more than MAX_WINDOWS."""
    return max(wanted, math.ceil(total / MAX_WINDOWS))


def boundaries(pending: Paginated[Any], total: int, size: int) -> list[int]:
    """The pk of every ``size``-th of ``total`` pending objects, in pk order: one one-row
    read each (``page=n&limit=1`` over the view sorted by id). A row that cannot be read
    gives no boundary; its neighbours' windows merge."""
    one = pending.filtered(sort="id").resized(1)
    found: list[int] = []
    for position in range(size, total, size):
        page = one.read_page(position)
        if page.items:
            found.append(int(page.items[0].pk))
    return found


def windows_of(edges: Sequence[int]) -> list[Window]:
    """Windows between sorted, distinct ``edges``, open at both ends: they cover every pk,
    also of objects that became pending after the edges were read."""
    cuts: list[int | None] = [None, *sorted(set(edges)), None]
    return [Window(i, cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]


def fans_out(resource: CatalogResource, kind: str) -> bool:
    """Catalog objects (those that can be read by pk) in an inserts or updates run."""
    return kind in FANOUT_KINDS and resource.read_by_ids is not None


class RunState:
    """One fanned-out send run in Redis: windows done, their summaries, objects done, and
    whether the coordinator has stopped it. Every key expires after ``ttl`` seconds."""

    def __init__(self, client: redis.Redis, run: str, ttl: float) -> None:
        self.client = client
        self.prefix = f"{KEY_PREFIX}{run}:"
        self.ttl = max(1, int(ttl))

    def _key(self, name: str) -> str:
        return self.prefix + name

    def finish(self, index: int, summary: Mapping[str, Any]) -> None:
        pipe = self.client.pipeline()
        pipe.hset(self._key("summaries"), str(index), json.dumps(summary))
        pipe.sadd(self._key("done"), str(index))
        for name in ("summaries", "done"):
            pipe.expire(self._key(name), self.ttl)
        pipe.execute()

    def is_done(self, index: int) -> bool:
        return bool(self.client.sismember(self._key("done"), str(index)))

    def windows_done(self) -> int:
        return int(self.client.scard(self._key("done")))

    def add_progress(self, objects: int) -> None:
        if objects:
            pipe = self.client.pipeline()
            pipe.incrby(self._key("progress"), objects)
            pipe.expire(self._key("progress"), self.ttl)
            pipe.execute()

    def progress(self) -> int:
        return int(self.client.get(self._key("progress")) or 0)

    def stop(self) -> None:
        self.client.set(self._key("stopped"), "1", ex=self.ttl)

    def stopped(self) -> bool:
        return bool(self.client.exists(self._key("stopped")))

    def summaries(self) -> list[dict[str, Any]]:
        raw = self.client.hgetall(self._key("summaries"))
        ordered = sorted(raw.items(), key=lambda item: int(item[0]))
        return [json.loads(value) for _, value in ordered]


def merge_summaries(flow: str, kind: str, parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One summary for a fanned-out send: counters added, lists joined, the first reason
    a window stopped kept."""
    merged: dict[str, Any] = {"flow": flow, "kind": kind}
    for part in parts:
        for name, value in part.items():
            if name in ("flow", "kind"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | list):
                merged.setdefault(name, value)
            elif isinstance(value, int):
                merged[name] = merged.get(name, 0) + value
            else:
                merged[name] = [*merged.get(name, []), *value]
    merged["windows"] = len(parts)
    return merged
