"""Single-flight locks in Redis: one run of a flow at a time, across all workers.

A lock has a short TTL that a background thread keeps extending while its holder runs,
so a worker killed with ``kill -9`` frees it within ``ttl`` seconds instead of blocking
the flow for hours. Only the holder's token can release it.

A lease's token can be handed to other processes (a fanned-out run's sub-tasks): they
:meth:`SingleFlight.keep` it alive while they work, so the flow stays locked until the last
of them is done, and they stop starting work once the lease is gone.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import redis

__all__ = ["KEY_PREFIX", "SingleFlight"]

KEY_PREFIX = "channel_app_template:lock:"
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class SingleFlight:
    """``with locks.hold("catalog:product") as acquired:``, skipping the work if not acquired."""

    def __init__(self, client: redis.Redis, ttl: float = 60.0) -> None:
        self.client = client
        self.ttl = ttl

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        with self.lease(name) as token:
            yield token is not None

    @contextlib.contextmanager
    def lease(self, name: str) -> Iterator[str | None]:
        """Like :meth:`hold`, yielding the holder's token (None: not acquired)."""
        key = KEY_PREFIX + name
        token = uuid.uuid4().hex
        if not self.client.set(key, token, nx=True, px=int(self.ttl * 1000)):
            yield None
            return
        try:
            with self._kept(key, token, name):
                yield token
        finally:
            with contextlib.suppress(redis.RedisError):
                self.client.eval(RELEASE, 1, key, token)

    @contextlib.contextmanager
    def keep(self, name: str, token: str) -> Iterator[bool]:
        """Extend another process's lease ``token`` on ``name`` while inside; yields whether
        it is still held by that token (if not, the caller must not start work under it).
        Never releases it: its owner does."""
        key = KEY_PREFIX + name
        if not self.holds(name, token):
            yield False
            return
        with self._kept(key, token, name):
            yield True

    def holds(self, name: str, token: str) -> bool:
        """Whether ``name`` is held by ``token`` now (and extend it by a TTL if so)."""
        ttl_ms = int(self.ttl * 1000)
        return bool(self.client.eval(EXTEND, 1, KEY_PREFIX + name, token, ttl_ms))

    @contextlib.contextmanager
    def _kept(self, key: str, token: str, name: str) -> Iterator[None]:
        stop = threading.Event()
        ttl_ms = int(self.ttl * 1000)
        keeper = threading.Thread(
            target=self._keep, args=(key, token, ttl_ms, stop), name=f"lock:{name}", daemon=True
        )
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join(timeout=5)

    def _keep(self, key: str, token: str, ttl_ms: int, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 3):
            with contextlib.suppress(redis.RedisError):
                if not self.client.eval(EXTEND, 1, key, token, ttl_ms):
                    return

    def is_held(self, name: str) -> bool:
        return bool(self.client.exists(KEY_PREFIX + name))
