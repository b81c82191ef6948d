"""One HTTP request with the project's retry rules, whatever the peer (Omnitron, a
marketplace): the rules that decide whether a failure may be repeated live in one place.

* A (connect, read) timeout on every attempt; a bounded number of attempts and a bounded
  total time per call.
* Idempotent requests are repeated on connection errors, timeouts and 500/502/503/504,
  with exponential backoff and jitter.
* Any request is repeated after 408/429: the server refused it, so nothing happened.
  ``Retry-After`` (seconds or an HTTP date) is honoured; a longer wait than the policy
  allows raises :class:`RateLimited` instead of parking the worker.
* A non-idempotent request whose outcome is unknown (sent, then no answer, or a 5xx)
  raises :class:`AmbiguousWriteError` and is never repeated; one that provably never left
  (connection refused, connect timeout) is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3.exceptions

from channel_app_template.core.errors import (
    AmbiguousWriteError,
    ConfigurationError,
    RateLimited,
    RetryLater,
)

logger = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds to open a connection, and to wait for each read from the socket."""

    connect: float = 5.0
    read: float = 30.0


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

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (retry_number - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclasses.dataclass
class RequestStats:
    """Counters for benchmarks and tests; per client, never global."""

    requests: int = 0
    retries: int = 0
    logins: int = 0


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def nothing_was_sent(error: requests.RequestException) -> bool:
    """True when the request provably never reached the server (refused, DNS, connect timeout)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.exceptions.ConnectionError):
        return False
    reason: object = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    # NewConnectionError (refused, unreachable) and NameResolutionError are ConnectTimeoutError
    # subclasses in urllib3 2: the socket never got connected, so no byte of the request left.
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)


Classify = Callable[[requests.Response], Exception]
Intercept = Callable[[requests.Response], bool]


class RetryingSender:
    """Sends requests for one client (one ``requests.Session``) under the rules above.

    ``peer`` names the other side in messages and logs ("Omnitron", "the marketplace").
    ``sleep``/``clock``/``wall_clock``/``rng`` are injectable for tests.
    """

    def __init__(
        self,
        session: requests.Session,
        peer: str,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.session = session
        self.peer = peer
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.stats = stats or RequestStats()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()  # jitter only, not cryptography

    def send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        repeatable: bool,
        prepare: Callable[[], Mapping[str, Any]],
        classify: Classify,
        intercept: Intercept | None = None,
        payload_of: Callable[[requests.Response], Any] | None = None,
    ) -> requests.Response:
        """Send until a final answer; return the 2xx response or raise a classified error.

        ``prepare`` gives the keyword arguments of each attempt (headers may change, e.g.
        a fresh token); ``intercept`` may claim a non-2xx answer to repeat the request
        without counting a retry (a token refresh); ``classify`` turns a final non-2xx
        answer into the exception to raise.
        """
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.stats.requests += 1
                response = self.session.request(
                    method,
                    url,
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    allow_redirects=False,
                    **prepare(),
                )
            except requests.exceptions.SSLError as error:
                raise ConfigurationError(
                    f"TLS with {self.peer} failed for {method} {path}: {type(error).__name__}",
                    method=method,
                    path=path,
                ) from error
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ) as error:
                raise ConfigurationError(
                    f"bad {self.peer} URL for {method} {path}", method=method, path=path
                ) from error
            except requests.RequestException as error:
                what = type(error).__name__
                if not (repeatable or nothing_was_sent(error)):
                    raise AmbiguousWriteError(
                        f"{method} {path} failed with {what} after the request may have "
                        f"reached {self.peer}; look the result up before trying again",
                        method=method,
                        path=path,
                    ) from error
                delay = self.retry.backoff(attempt, self._rng)
                if self._may_retry(attempt, started, delay):
                    self._pause(method, path, what, attempt, delay)
                    continue
                raise RetryLater(
                    f"{method} {path} failed {attempt} times, last with {what}",
                    method=method,
                    path=path,
                ) from error

            status = response.status_code
            logger.debug("%s %s %s -> %s (attempt %s)", self.peer, method, path, status, attempt)
            if status < 300:
                return response
            if intercept is not None and intercept(response):
                attempt -= 1  # repeating with new credentials is not a retry
                continue
            if status in (408, 429) or (status in RETRIABLE_STATUSES and repeatable):
                # 408/429: the server refused to process the request, so even a write is safe.
                hinted = None
                if status in (429, 503):
                    hinted = parse_retry_after(
                        response.headers.get("Retry-After"), self._wall_clock()
                    )
                info: dict[str, Any] = {
                    "status_code": status,
                    "method": method,
                    "path": path,
                    "payload": payload_of(response) if payload_of else None,
                }
                if hinted is not None and hinted > self.retry.max_retry_after:
                    raise RateLimited(
                        f"{self.peer} asked to wait {hinted:.0f}s before {method} {path}",
                        retry_after=hinted,
                        **info,
                    )
                delay = hinted if hinted is not None else self.retry.backoff(attempt, self._rng)
                if self._may_retry(attempt, started, delay):
                    response.close()
                    self._pause(method, path, str(status), attempt, delay)
                    continue
                error_class = RateLimited if status == 429 else RetryLater
                raise error_class(
                    f"{method} {path} answered {status} {attempt} times",
                    retry_after=hinted,
                    **info,
                )
            raise classify(response)

    def _may_retry(self, attempt: int, started: float, delay: float) -> bool:
        if attempt >= self.retry.max_attempts:
            return False
        return (self._clock() - started) + delay <= self.retry.max_elapsed

    def _pause(self, method: str, path: str, reason: str, attempt: int, delay: float) -> None:
        self.stats.retries += 1
        logger.warning(
            "%s %s %s: %s; retry %s/%s in %.2fs",
            self.peer,
            method,
            path,
            reason,
            attempt,
            self.retry.max_attempts - 1,
            delay,
        )
        self._sleep(delay)
