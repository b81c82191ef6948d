"""The commit gate across worker processes: one committed batch per content type.

Omnitron allows one committed batch request per content type. Inside one process the
engine's own gate keeps that; a fanned-out run sends batches of one content type from
several worker processes at once, so they share this gate, a lease in Redis. The engine
enters it right before it commits a batch and leaves it once the batch has left
``COMMIT``.

A worker killed while it holds the gate cannot leave it: the lease expires after
``ttl`` seconds (a thread renews it while the holder lives), but the batch it had committed
stays committed. So every holder marks the gate while inside and unmarks it on its way
out; the next holder that finds the mark repairs (fails) what was left committed before it
commits its own batch.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

import redis

from channel_app_template.core.locks import KEY_PREFIX, SingleFlight
from channel_app_template.errors import RetryLater

__all__ = ["GATE_PREFIX", "RedisCommitGate"]

GATE_PREFIX = "commit-gate:"
POLL_FIRST = 0.005  # seconds between tries for a busy gate, doubling ...
POLL_MOST = 0.05  # ... up to this: a batch spends tens of milliseconds or more in COMMIT
MARK_TTL = 7 * 24 * 3600  # seconds; a run's own start repairs whatever outlived a mark
MARK = """
local previous = redis.call('get', KEYS[1])
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
return previous
"""
UNMARK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisCommitGate:
    """``with gate("product"):`` -- one holder per content type among all processes that
    share ``client`` and ``scope`` (the Omnitron channel). Waits at most ``wait`` seconds
    for the gate, then raises :class:`RetryLater` (the engine stops the run between
    batches). ``on_takeover(model)`` runs, inside the gate, when the previous holder died in
    it."""

    def __init__(
        self,
        client: redis.Redis,
        scope: str,
        *,
        ttl: float,
        wait: float,
        on_takeover: Callable[[str], object] | None = None,
    ) -> None:
        self.client = client
        self.scope = scope
        self.wait = wait
        self.on_takeover = on_takeover
        self._locks = SingleFlight(client, ttl)

    def name(self, model: str) -> str:
        return f"{GATE_PREFIX}{self.scope}:{model}"

    @contextlib.contextmanager
    def __call__(self, model: str) -> Iterator[None]:
        name = self.name(model)
        deadline = time.monotonic() + self.wait
        pause = POLL_FIRST
        while True:
            with self._locks.lease(name) as token:
                if token is not None:
                    yield from self._inside(name, model, token)
                    return
            if time.monotonic() >= deadline:
                raise RetryLater(f"the commit gate of {model} stayed busy for {self.wait:g}s")
            time.sleep(pause)
            pause = min(pause * 2, POLL_MOST)

    def _inside(self, name: str, model: str, token: str) -> Iterator[None]:
        mark = f"{KEY_PREFIX}{name}:held"
        holder = f"{os.getpid()}:{token}"  # the pid tells operators (and tests) who holds it
        left_by_dead_holder = self.client.eval(MARK, 1, mark, holder, MARK_TTL)
        if left_by_dead_holder is not None and self.on_takeover is not None:
            self.on_takeover(model)
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):
                self.client.eval(UNMARK, 1, mark, holder)
