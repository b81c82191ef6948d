"""Single-flight locks in Redis: one run of a flow at a time, across all workers.

A lock has a short TTL that a background thread keeps extending while its holder runs,
so a worker killed with ``kill -9`` frees it within ``ttl`` seconds instead of blocking
the flow for hours. Only the holder's token can release it.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import redis

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
        key = KEY_PREFIX + name
        token = uuid.uuid4().hex
        ttl_ms = int(self.ttl * 1000)
        if not self.client.set(key, token, nx=True, px=ttl_ms):
            yield False
            return
        stop = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(key, token, ttl_ms, stop), name=f"lock:{name}", daemon=True
        )
        keeper.start()
        try:
            yield True
        finally:
            stop.set()
            keeper.join(timeout=5)
            with contextlib.suppress(redis.RedisError):
                self.client.eval(RELEASE, 1, key, token)

    def _keep(self, key: str, token: str, ttl_ms: int, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 3):
            with contextlib.suppress(redis.RedisError):
                if not self.client.eval(EXTEND, 1, key, token, ttl_ms):
                    return

    def is_held(self, name: str) -> bool:
        return bool(self.client.exists(KEY_PREFIX + name))
