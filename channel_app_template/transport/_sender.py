"""The retry loop of one client: each attempt under the deadline and the byte cap, repeated
or refused by the rules of :mod:`~channel_app_template.transport._retry`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from channel_app_template.errors import (
    AmbiguousWriteError,
    ConfigurationError,
    RateLimited,
    RetryLater,
)
from channel_app_template.transport._deadline import ATTEMPT_DEADLINE
from channel_app_template.transport._decode import Answer, error_payload
from channel_app_template.transport._errors import (
    DeadlineExceeded,
    ResponseTooLarge,
    UnexpectedAnswer,
)
from channel_app_template.transport._limits import Limits, Timeouts
from channel_app_template.transport._retry import (
    RETRIABLE_STATUSES,
    RetryPolicy,
    nothing_was_sent,
    parse_retry_after,
    tls_failure,
)

__all__ = [
    "Classify",
    "Intercept",
    "Prepared",
    "RequestStats",
    "RetryingSender",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class RequestStats:
    """Counters for benchmarks and tests; per client, never global."""

    requests: int = 0
    retries: int = 0
    logins: int = 0


Classify = Callable[[Answer], Exception]
Intercept = Callable[[Answer], bool]
Prepared = Mapping[str, Any]  # "params", "content", "headers" of one attempt


class RetryingSender:
    """Sends requests for one client (one ``httpx.Client``) under the rules above.

    ``peer`` names the other side in messages and logs ("Omnitron", "the marketplace").
    ``sleep``/``clock``/``wall_clock``/``rng`` are injectable for tests; the per-attempt
    deadline always runs on the real monotonic clock, like the network does.
    """

    def __init__(
        self,
        client: httpx.Client,
        peer: str,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.peer = peer
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.stats = stats or RequestStats()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()  # jitter only, not cryptography
        self._httpx_timeout = httpx.Timeout(
            connect=self.timeouts.connect,
            read=self.timeouts.read,
            write=self.timeouts.read,
            pool=self.timeouts.connect,
        )

    def send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        repeatable: bool,
        prepare: Callable[[], Prepared],
        classify: Classify,
        intercept: Intercept | None = None,
        payload_of: Callable[[Answer], Any] = error_payload,
    ) -> Answer:
        """Send until a final answer; return the 2xx answer or raise a classified error.

        ``prepare`` gives the ``params``/``content``/``headers`` of each attempt (headers
        may change, e.g. a fresh token); ``intercept`` may claim a non-2xx answer to repeat
        the request without counting a retry (a token refresh); ``classify`` turns a final
        non-2xx answer into the exception to raise.
        """
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._attempt(method, url, path, prepare())
            except DeadlineExceeded as error:
                failure: Exception = error
                what = "the deadline"
                if not repeatable:
                    raise self._ambiguous(method, path, what) from error
            except (ResponseTooLarge, UnexpectedAnswer) as error:
                if not repeatable:  # the write was answered: it may well have been applied
                    raise self._ambiguous(method, path, type(error).__name__) from error
                raise
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                raise ConfigurationError(
                    f"bad {self.peer} URL for {method} {path}", method=method, path=path
                ) from error
            except httpx.TransportError as error:
                failure = error
                what = type(error).__name__
                if tls_failure(error):
                    raise ConfigurationError(
                        f"TLS with {self.peer} failed for {method} {path}",
                        method=method,
                        path=path,
                    ) from error
                if not (repeatable or nothing_was_sent(error)):
                    raise self._ambiguous(method, path, what) from error
            else:
                status = answer.status_code
                logger.debug(
                    "%s %s %s -> %s (attempt %s)", self.peer, method, path, status, attempt
                )
                if status < 300:
                    return answer
                if intercept is not None and intercept(answer):
                    attempt -= 1  # repeating with new credentials is not a retry
                    continue
                if not (status in (408, 429) or (status in RETRIABLE_STATUSES and repeatable)):
                    raise classify(answer)
                # 408/429: the server refused to process the request, so even a write is safe.
                self._retry_status(answer, method, path, attempt, started, payload_of)
                continue
            delay = self.retry.backoff(attempt, self._rng)
            if self._may_retry(attempt, started, delay):
                self._pause(method, path, what, attempt, delay)
                continue
            if isinstance(failure, DeadlineExceeded):
                raise failure
            raise RetryLater(
                f"{self.peer} {method} {path} failed {attempt} times, last with {what}",
                method=method,
                path=path,
            ) from failure

    def _retry_status(
        self,
        answer: Answer,
        method: str,
        path: str,
        attempt: int,
        started: float,
        payload_of: Callable[[Answer], Any],
    ) -> None:
        """Sleep before repeating a 408/429/5xx answer, or raise when the policy says stop."""
        status = answer.status_code
        hinted = None
        if status in (429, 503):
            hinted = parse_retry_after(answer.headers.get("Retry-After"), self._wall_clock())
        info: dict[str, Any] = {
            "status_code": status,
            "method": method,
            "path": path,
            "payload": payload_of(answer),
        }
        if hinted is not None and hinted > self.retry.max_retry_after:
            raise RateLimited(
                f"{self.peer} asked to wait {hinted:.0f}s before {method} {path}",
                retry_after=hinted,
                **info,
            )
        delay = hinted if hinted is not None else self.retry.backoff(attempt, self._rng)
        if self._may_retry(attempt, started, delay):
            self._pause(method, path, str(status), attempt, delay)
            return
        error_class = RateLimited if status == 429 else RetryLater
        raise error_class(
            f"{self.peer} {method} {path} answered {status} {attempt} times",
            retry_after=hinted,
            **info,
        )

    def _attempt(self, method: str, url: str, path: str, prepared: Prepared) -> Answer:
        """One exchange: the request, then the body streamed under the cap and deadline."""
        deadline = time.monotonic() + self.timeouts.total
        token = ATTEMPT_DEADLINE.set(deadline)
        self.stats.requests += 1
        try:
            request = self.client.build_request(
                method,
                url,
                params=prepared.get("params"),
                content=prepared.get("content"),
                headers=prepared.get("headers"),
                timeout=self._httpx_timeout,
            )
            try:
                response = self.client.send(request, stream=True, follow_redirects=False)
            except (httpx.ReadTimeout, httpx.WriteTimeout) as error:
                # connect and pool timeouts stay what they are: nothing was sent
                self._check_deadline(deadline, method, path, error)
                raise
            try:
                content = self._read_body(response, deadline, method, path)
            finally:
                response.close()
            return Answer(response.status_code, response.headers, content)
        finally:
            ATTEMPT_DEADLINE.reset(token)

    def _read_body(
        self, response: httpx.Response, deadline: float, method: str, path: str
    ) -> bytearray:
        cap = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(method, path, response.status_code)
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise self._too_large(method, path, response.status_code)
                if time.monotonic() > deadline:
                    raise self._deadline_error(method, path)
        except httpx.TimeoutException as error:
            self._check_deadline(deadline, method, path, error)
            raise
        except httpx.DecodingError as error:
            raise UnexpectedAnswer(
                f"{self.peer} {method} {path}: the body's content encoding is broken",
                peer=self.peer,
                status_code=response.status_code,
                method=method,
                path=path,
            ) from error
        return body

    def _check_deadline(
        self, deadline: float, method: str, path: str, error: BaseException
    ) -> None:
        if time.monotonic() >= deadline - 0.01:  # the read was cut short by the deadline
            raise self._deadline_error(method, path) from error

    def _deadline_error(self, method: str, path: str) -> DeadlineExceeded:
        total = self.timeouts.total
        return DeadlineExceeded(
            f"{self.peer} {method} {path}: no complete answer within {total:g}s "
            "(HTTP_REQUEST_DEADLINE)",
            peer=self.peer,
            deadline=total,
            method=method,
            path=path,
        )

    def _too_large(self, method: str, path: str, status: int) -> ResponseTooLarge:
        cap = self.limits.max_response_bytes
        return ResponseTooLarge(
            f"{self.peer} {method} {path}: answer larger than {cap} bytes "
            "(HTTP_MAX_RESPONSE_BYTES)",
            peer=self.peer,
            limit=cap,
            status_code=status,
            method=method,
            path=path,
        )

    def _ambiguous(self, method: str, path: str, what: str) -> AmbiguousWriteError:
        return AmbiguousWriteError(
            f"{method} {path} failed with {what} after the request may have reached "
            f"{self.peer}; look the result up before trying again",
            method=method,
            path=path,
        )

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
