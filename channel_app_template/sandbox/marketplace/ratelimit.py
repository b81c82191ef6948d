"""A token bucket per API key: ``rate`` tokens a second, up to ``burst`` saved up.

Each authenticated ``/api/`` request takes one token; with none left the answer is 429 with
``Retry-After`` (whole seconds, at least 1, as HTTP requires) and ``X-RateLimit-*`` headers.
``rate <= 0`` switches limiting off. Buckets live in memory: a restart refills them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    rate: float = 50.0
    burst: int = 100
    clock: Callable[[], float] = time.monotonic
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, rate: float | None = None, burst: int | None = None) -> None:
        """Change the limits at run time; every bucket starts full again."""
        with self.lock:
            if rate is not None:
                self.rate = float(rate)
            if burst is not None:
                self.burst = max(1, int(burst))
            self.buckets.clear()

    def take(self, key: str) -> tuple[bool, float, int]:
        """Try to spend a token: (allowed, seconds until one is available, tokens left)."""
        if self.rate <= 0:
            return True, 0.0, self.burst
        now = self.clock()
        with self.lock:
            tokens, at = self.buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return True, 0.0, int(tokens - 1.0)
            self.buckets[key] = (tokens, now)
            return False, (1.0 - tokens) / self.rate, 0

    @staticmethod
    def retry_after(wait: float) -> int:
        return max(1, math.ceil(wait))

    def as_dict(self) -> dict[str, float | int]:
        return {"rate_limit": self.rate, "rate_burst": self.burst}
