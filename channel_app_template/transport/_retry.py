"""When a request may be repeated, and how long to wait first. The rules, written once:

* Idempotent requests are repeated on connection errors, timeouts (the deadline included)
  and 500/502/503/504, with exponential backoff and jitter; a bounded number of attempts
  and no new attempt after ``max_elapsed`` seconds of one call, so one call lasts at most
  ``max_elapsed`` plus one deadline.
* Any request is repeated after 408/429: the server refused it, so nothing happened.
  ``Retry-After`` (seconds or an HTTP date) is honoured; a longer wait than the policy allows
  raises :class:`RateLimited` instead of parking the worker.
* A non-idempotent request whose outcome is unknown (sent, then no answer, or a 5xx) raises
  :class:`AmbiguousWriteError` and is never repeated; one that provably never left
  (connection refused, connect timeout) is.

The loop that applies them is :class:`~channel_app_template.transport._sender.RetryingSender`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import math
import random
import ssl

import httpx

from channel_app_template.transport._limits import MAX_DEADLINE, check_range

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRIABLE_STATUSES",
    "RetryPolicy",
    "nothing_was_sent",
    "parse_retry_after",
    "tls_failure",
]

RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
# Repeating one of these leaves the server as one execution would (POST never is).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it gives up.

    Backoff before retry ``n`` (1-based) is ``d/2 + uniform(0, d/2)`` with
    ``d = min(backoff_cap, backoff_base * 2**(n-1))`` ("equal jitter": spreads workers apart
    but never retries immediately). A ``Retry-After`` from the server replaces the backoff;
    one longer than ``max_retry_after`` is not slept inside the call but raised as
    :class:`RateLimited` so a worker is not parked for minutes.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0
    max_elapsed: float = 60.0  # no new attempt starts after this many seconds of one call

    def __post_init__(self) -> None:
        check_range("RetryPolicy.max_attempts", self.max_attempts, 1, 1000)
        for name in ("backoff_base", "backoff_cap", "max_retry_after", "max_elapsed"):
            check_range(f"RetryPolicy.{name}", getattr(self, name), 0.0, MAX_DEADLINE)

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (retry_number - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def nothing_was_sent(error: httpx.TransportError) -> bool:
    """True when the request provably never reached the server (refused, DNS, connect
    timeout, no free connection in the pool)."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def tls_failure(error: BaseException) -> bool:
    cause: BaseException | None = error
    for _ in range(5):
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
