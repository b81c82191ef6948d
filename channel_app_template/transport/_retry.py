"""The rules of every HTTP call to every peer, written once (the other transport modules
point here).

What may be repeated:

* An idempotent request is repeated after a connection error, a timeout (the per-attempt
  deadline included) and a 500/502/503/504 answer. Idempotent means the method is in the
  client's ``idempotent_methods`` (:data:`IDEMPOTENT_METHODS` unless it names its own;
  Omnitron adds PATCH), or the call says ``idempotent=True`` (a POST the peer deduplicates).
* Any request is repeated after 408 or 429 (the server refused to process it, so nothing
  happened) and after a failure that provably happened before it left: connection refused,
  DNS, connect timeout, no free connection in the pool (:func:`nothing_was_sent`).
* A non-idempotent request whose outcome is unknown (sent, then no answer, the deadline, a
  5xx, an answer over the byte cap or not JSON) raises :class:`AmbiguousWriteError` and is
  never repeated: look the result up first.
* Never repeated: a bad URL or a failed TLS handshake (:class:`ConfigurationError`), and
  every other status: the client's error table
  (:class:`~channel_app_template.transport.StatusErrors`) says what it becomes.
* A 401 goes to the auth object (:class:`~channel_app_template.transport.Auth`), whose flow
  may send the request again with new credentials (Omnitron: another worker's token, then
  one login of its own). That repeat is not a retry: not counted, not slept for, and it
  starts its own attempts.

How long to wait before a retry: exponential backoff with jitter
(:meth:`RetryPolicy.backoff`); on 429 and 503 a ``Retry-After`` (seconds or an HTTP date)
replaces it, and one longer than ``max_retry_after`` raises :class:`RateLimited` at once
instead of parking the worker.

When to stop: after ``max_attempts`` attempts of one request, or when the next attempt would
start more than ``max_elapsed`` seconds after the call began (its wait included), so a call
lasts at most ``max_elapsed`` plus one deadline. The last failure is raised:
:class:`DeadlineExceeded`, :class:`RateLimited` after 429s, :class:`RetryLater` otherwise.

Each attempt has a deadline (``Timeouts.total``, enforced at every socket read and write, so
a trickling peer cannot outlast it) and a byte cap (``Limits.max_response_bytes``). The
loop that applies these rules is :class:`~channel_app_template.transport._sender.RetryingSender`.
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
    "HINTED_STATUSES",
    "IDEMPOTENT_METHODS",
    "REFUSED_STATUSES",
    "RETRIABLE_STATUSES",
    "RetryPolicy",
    "nothing_was_sent",
    "parse_retry_after",
    "repeat_status",
    "tls_failure",
]

RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
REFUSED_STATUSES = frozenset({408, 429})  # not processed: any request may be repeated
HINTED_STATUSES = frozenset({429, 503})  # whose Retry-After is read
# Repeating one of these leaves the server as one execution would (POST never is).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it gives up (the rules: this module's docstring).

    Backoff before retry ``n`` (1-based) is ``d/2 + uniform(0, d/2)`` with
    ``d = min(backoff_cap, backoff_base * 2**(n-1))`` ("equal jitter": spreads workers apart
    but never retries immediately).
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

    def allows(self, attempt: int, elapsed: float, delay: float) -> bool:
        """Whether attempt ``attempt + 1`` may start after ``delay`` more seconds, ``elapsed``
        seconds into the call."""
        return attempt < self.max_attempts and elapsed + delay <= self.max_elapsed


def repeat_status(status: int, repeatable: bool) -> bool:
    """Whether an answer with ``status`` is retried (for a request that is ``repeatable``)."""
    return status in REFUSED_STATUSES or (repeatable and status in RETRIABLE_STATUSES)


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
