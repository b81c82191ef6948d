"""The retry loop of one client: a request sent until its final answer, each attempt under the
deadline and the byte cap. What is repeated, how long it waits and when it stops are the
rules of :mod:`~channel_app_template.transport._retry`; this module only applies them.

Why the loop is not tenacity's or stamina's (measured for issue 12). The loop was rewritten on
``tenacity.Retrying`` with our policy underneath (``stop``: ``RetryPolicy.allows`` on our
clock, since tenacity's own elapsed time reads ``time.monotonic`` directly; ``wait``: the
``Retry-After`` hint or ``RetryPolicy.backoff`` with our seeded ``rng``, since tenacity's
jitter draws from the global ``random``; ``sleep``, ``before_sleep`` and
``retry_error_callback`` for logging and the final error): every transport test passed, but
the classification had to travel through an exception type and five callbacks, about twice
the lines of the loop below, and it cost 20-37 us more client CPU per call (a ``Retrying``
built per call or kept per client; 107-117 us per call without it over ``httpx.MockTransport``,
about 8% of a real request). stamina is tenacity underneath with a global testing switch
instead of an injectable sleep and its own jitter formula; urllib3's ``Retry`` works on
urllib3's responses and pool. The loop stays ours: what a library would carry here is the
``while`` and two comparisons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import httpx

from channel_app_template.errors import (
    AmbiguousWriteError,
    ConfigurationError,
    RateLimited,
    RetryLater,
)
from channel_app_template.transport._decode import Answer, error_payload
from channel_app_template.transport._errors import (
    DeadlineExceeded,
    ResponseTooLarge,
    UnexpectedAnswer,
)
from channel_app_template.transport._limits import Limits, Timeouts
from channel_app_template.transport._network import DEADLINE
from channel_app_template.transport._retry import (
    HINTED_STATUSES,
    RetryPolicy,
    nothing_was_sent,
    parse_retry_after,
    repeat_status,
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

# Names ``core.http`` had before issue 12 (the retry loop's hooks), kept for its re-exports.
Classify = Callable[[Answer], Exception]
Intercept = Callable[[Answer], bool]
Prepared = Mapping[str, Any]


@dataclasses.dataclass
class RequestStats:
    """Counters for benchmarks and tests; per client, never global."""

    requests: int = 0
    retries: int = 0
    logins: int = 0


class RetryingSender:
    """Sends requests over one httpx transport under the rules of ``_retry``.

    Straight to the transport, not through ``httpx.Client.send``: the client's layer
    (auth and redirect handling, cookies, event hooks, an INFO log line) does nothing this
    loop needs and cost about 110 us of CPU per request, nearly a third of a GET
    (``bench/bench_http_library.py``).

    ``peer`` names the other side in messages and logs ("Omnitron", "the marketplace").
    ``on_answer`` sees every answer, retried ones too (e.g. to read rate-limit headers);
    ``payload_of`` decodes an error body for the exceptions raised here.
    ``sleep``/``clock``/``wall_clock``/``rng`` are injectable for tests; the per-attempt
    deadline always runs on the real monotonic clock, like the network does.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport,
        peer: str,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        stats: RequestStats | None = None,
        on_answer: Callable[[Answer], None] | None = None,
        payload_of: Callable[[Answer], Any] = error_payload,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.transport = transport
        self.peer = peer
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.stats = stats or RequestStats()
        self.clock = clock
        self._on_answer = on_answer
        self._payload_of = payload_of
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()  # jitter only, not cryptography

    def send(
        self, request: httpx.Request, path: str, *, repeatable: bool, started: float | None = None
    ) -> Answer:
        """The first answer to ``request`` that is not retried: a 2xx or a final error status.

        Raises when a failure may not be repeated or the policy says stop. ``path`` names
        the call in messages (never the query string); ``started`` is when the call began on
        ``clock`` (the repeat an auth flow asks for shares its call's time).
        """
        method = request.method
        started = self.clock() if started is None else started
        attempt = 0
        while True:
            attempt += 1
            hinted: float | None = None
            try:
                answer = self._attempt(request, path)
            except (ResponseTooLarge, UnexpectedAnswer) as error:
                if not repeatable:  # the write was answered: it may well have been applied
                    raise self._ambiguous(
                        method, path, f"failed with {type(error).__name__}"
                    ) from error
                raise
            except (DeadlineExceeded, httpx.TransportError) as error:
                failure: Exception | Answer = error
                reason = self._repeatable_failure(error, method, path, repeatable)
            else:
                if self._on_answer is not None:
                    self._on_answer(answer)
                status = answer.status_code
                if not repeat_status(status, repeatable):
                    if status >= 500 and not repeatable:
                        raise self._ambiguous(method, path, f"answered {status}", answer)
                    return answer
                failure, reason = answer, str(status)
                hinted = self._retry_after(answer, method, path)
            delay = self.retry.backoff(attempt, self._rng) if hinted is None else hinted
            if not self.retry.allows(attempt, self.clock() - started, delay):
                self._give_up(failure, attempt, method, path, hinted)
            self._pause(method, path, reason, attempt, delay)

    # ------------------------------------------------------------------ one attempt
    def _attempt(self, request: httpx.Request, path: str) -> Answer:
        """One exchange: the request, then the body streamed under the cap and deadline."""
        deadline = time.monotonic() + self.timeouts.total
        request.extensions[DEADLINE] = deadline
        self.stats.requests += 1
        try:
            response = self.transport.handle_request(request)
        except (httpx.ReadTimeout, httpx.WriteTimeout) as error:
            # connect and pool timeouts stay what they are: nothing was sent
            self._check_deadline(deadline, request.method, path, error)
            raise
        response.request = request
        try:
            content = self._read_body(response, deadline, request.method, path)
        finally:
            response.close()
        return Answer(response.status_code, response.headers, content)

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

    # ------------------------------------------------------------------ the rules applied
    def _repeatable_failure(
        self, error: Exception, method: str, path: str, repeatable: bool
    ) -> str:
        """What went wrong, when ``error`` may be retried; raises what it becomes otherwise."""
        what = "the deadline" if isinstance(error, DeadlineExceeded) else type(error).__name__
        if isinstance(error, httpx.UnsupportedProtocol):
            raise ConfigurationError(
                f"bad {self.peer} URL for {method} {path}", method=method, path=path
            ) from error
        if tls_failure(error):
            raise ConfigurationError(
                f"TLS with {self.peer} failed for {method} {path}", method=method, path=path
            ) from error
        sent = not (isinstance(error, httpx.TransportError) and nothing_was_sent(error))
        if sent and not repeatable:
            raise self._ambiguous(method, path, f"failed with {what}") from error
        return what

    def _retry_after(self, answer: Answer, method: str, path: str) -> float | None:
        """The wait the peer asked for, if any; :class:`RateLimited` past the policy's cap."""
        if answer.status_code not in HINTED_STATUSES:
            return None
        hinted = parse_retry_after(answer.headers.get("Retry-After"), self._wall_clock())
        if hinted is not None and hinted > self.retry.max_retry_after:
            raise RateLimited(
                f"{self.peer} asked to wait {hinted:.0f}s before {method} {path}",
                retry_after=hinted,
                **self._info(answer, method, path),
            )
        return hinted

    def _give_up(
        self,
        failure: Exception | Answer,
        attempt: int,
        method: str,
        path: str,
        hinted: float | None,
    ) -> NoReturn:
        """Raise what the last failure becomes when the policy allows no further attempt."""
        if isinstance(failure, DeadlineExceeded):
            raise failure
        if isinstance(failure, Exception):
            raise RetryLater(
                f"{self.peer} {method} {path} failed {attempt} times, last with "
                f"{type(failure).__name__}",
                method=method,
                path=path,
            ) from failure
        status = failure.status_code
        error_class = RateLimited if status == 429 else RetryLater
        raise error_class(
            f"{self.peer} {method} {path} answered {status} {attempt} times",
            retry_after=hinted,
            **self._info(failure, method, path),
        )

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

    # ------------------------------------------------------------------ errors
    def _info(self, answer: Answer, method: str, path: str) -> dict[str, Any]:
        return {
            "status_code": answer.status_code,
            "payload": self._payload_of(answer),
            "method": method,
            "path": path,
        }

    def _ambiguous(
        self, method: str, path: str, what: str, answer: Answer | None = None
    ) -> AmbiguousWriteError:
        info = self._info(answer, method, path) if answer else {"method": method, "path": path}
        return AmbiguousWriteError(
            f"{self.peer} {method} {path} {what}; the write may have been applied, look it up "
            "before trying again",
            **info,
        )

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
