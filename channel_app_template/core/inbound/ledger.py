"""Per-item bookkeeping in Redis for inbound flows: locks, failed attempts, parked items.

An order (or event) that keeps failing is retried on later runs; after ``max_attempts``
it is *parked*: skipped by later runs, listed by the ``list_parked_orders`` task and
reported to Omnitron, until an operator fixes the cause and runs ``retry_parked_orders``.
Nothing is ever dropped: the marketplace still holds it unacknowledged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import redis

from channel_app_template.core.locks import EXTEND, RELEASE

__all__ = ["ATTEMPTS_TTL", "Ledger"]

ATTEMPTS_TTL = 30 * 24 * 3600


class Ledger:
    def __init__(
        self,
        client: redis.Redis,
        channel_id: int,
        kind: str,
        max_attempts: int,
        lock_ttl: float = 120.0,
    ) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.lock_ttl = lock_ttl
        base = f"channel_app_template:{kind}:{channel_id}"
        self._attempts = f"{base}:attempts"
        self._parked = f"{base}:parked"
        self._reported = f"{base}:reported"
        self._locks = f"{base}:lock:"

    @contextlib.contextmanager
    def lock(self, item: str) -> Iterator[bool]:
        """Only one worker handles ``item`` at a time (a create in flight is never raced).

        The TTL must outlast one item's work; a worker killed mid-item frees it after that.
        """
        key, token = self._locks + item, uuid.uuid4().hex
        acquired = bool(self.client.set(key, token, nx=True, px=int(self.lock_ttl * 1000)))
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(redis.RedisError):
                    self.client.eval(RELEASE, 1, key, token)

    def hold(self, items: Sequence[str]) -> dict[str, str]:
        """Take the locks of many items in one round trip: item -> token, for those held
        (another worker has the rest). Each must be let go with :meth:`let_go`; the TTL
        frees them if this worker dies first."""
        tokens = {item: uuid.uuid4().hex for item in dict.fromkeys(items)}
        if not tokens:
            return {}
        ttl = int(self.lock_ttl * 1000)
        with self.client.pipeline(transaction=False) as pipe:
            for item, token in tokens.items():
                pipe.set(self._locks + item, token, nx=True, px=ttl)
            taken = pipe.execute()
        return {item: token for (item, token), ok in zip(tokens.items(), taken, strict=True) if ok}

    def still_held(self, item: str, token: str) -> bool:
        """True, with the TTL renewed, if the lock taken by :meth:`hold` never lapsed
        (its token is still there), so nobody else can have handled the item since."""
        ttl = int(self.lock_ttl * 1000)
        return bool(self.client.eval(EXTEND, 1, self._locks + item, token, ttl))

    def let_go(self, item: str, token: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self.client.eval(RELEASE, 1, self._locks + item, token)

    def failed(self, item: str, reason: str) -> bool:
        """Count a failed attempt; return True when this one parks the item."""
        attempts = int(self.client.hincrby(self._attempts, item, 1))
        self.client.expire(self._attempts, ATTEMPTS_TTL)
        if attempts < self.max_attempts:
            return False
        record = {"reason": reason[:1000], "attempts": attempts, "parked_at": time.time()}
        self.client.hset(self._parked, item, json.dumps(record))
        return True

    def first_report(self, item: str, reason: str) -> bool:
        """True the first time ``item`` fails for ``reason`` (until it succeeds or is
        unparked): one error report per problem, not one per run."""
        digest = hashlib.sha256(reason.encode()).hexdigest()[:16]
        previous = self.client.hget(self._reported, item)
        if isinstance(previous, bytes):
            previous = previous.decode()
        if previous == digest:
            return False
        self.client.hset(self._reported, item, digest)
        self.client.expire(self._reported, ATTEMPTS_TTL)
        return True

    def succeeded(self, items: Sequence[str]) -> None:
        if items:
            self.client.hdel(self._attempts, *items)
            self.client.hdel(self._reported, *items)

    def is_parked(self, item: str) -> bool:
        return bool(self.client.hexists(self._parked, item))

    def parked_among(self, items: Sequence[str]) -> set[str]:
        """Which of ``items`` are parked, in one round trip (a page's worth)."""
        names = list(dict.fromkeys(items))
        if not names:
            return set()
        found = self.client.hmget(self._parked, names)
        return {name for name, record in zip(names, found, strict=True) if record is not None}

    def parked(self) -> dict[str, Any]:
        return {
            (key.decode() if isinstance(key, bytes) else str(key)): json.loads(value)
            for key, value in self.client.hgetall(self._parked).items()
        }

    def unpark(self, items: Sequence[str] | None = None) -> int:
        """Give parked items a fresh set of attempts (all of them when ``items`` is None)."""
        names = list(items) if items is not None else list(self.parked())
        if not names:
            return 0
        removed = int(self.client.hdel(self._parked, *names))
        self.client.hdel(self._attempts, *names)
        self.client.hdel(self._reported, *names)
        return removed
