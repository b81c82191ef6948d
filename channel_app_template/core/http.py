"""One HTTP transport for every peer (Omnitron, the reference marketplace, a scaffolded
channel): the rules that decide whether a failure may be repeated, and how much a peer may
send, live in one place.

* A connect timeout, a per-read timeout and a **deadline per attempt** (connect, headers and
  body together), enforced at every socket read: a peer trickling one byte a second is cut
  off at the deadline, not kept alive by each byte.
* The body is read streamed and **capped** (``HTTP_MAX_RESPONSE_BYTES``): a huge answer fails
  with :class:`ResponseTooLarge` after at most the cap has been read.
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
* A 2xx answer that is not JSON, or not the shape the caller expects, raises
  :class:`UnexpectedAnswer` naming the peer and path, never a raw ``TypeError``.
* Credentials are small objects (:class:`Auth`), applied per attempt and asked what to do
  after a 401; secrets never reach a message, and neither does the query string.

Channels use :class:`HttpClient`; Omnitron's client is built on the same class.

Why httpx (decided once, for every peer but the proxy's aiohttp). Client CPU per request
against one local keep-alive server (``bench/bench_http_library.py``, 2,000 GETs of a 2 KB
JSON page, 2 shared cores): ``requests`` 690-890 us (600-640 us with ``trust_env=False``),
``httpx`` 340-560 us, :class:`HttpClient` on it (cap, deadline, retry rules) about 5% above
bare httpx; through the reference marketplace client, 800-990 us a call against 990-1,430 us
on the requests-based sender it replaces. The catalog engine makes about one request per
product, so this is paid per product. httpx also has the Auth/transport split the redesign
takes as its model, and httpcore's network-backend interface is where the per-attempt
deadline is enforced on every read and write (:class:`_DeadlineBackend`). The retry loop
stays our own code: it needs an injectable clock and sleep for deterministic tests, a 401
repeat that is not counted as a retry, and a ``Retry-After`` ceiling that raises; tenacity
and stamina would each need all three bolted on around them.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import decimal
import email.utils
import enum
import functools
import json
import logging
import math
import random
import ssl
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

import httpcore
import httpx
from pydantic import BaseModel, SecretStr

from channel_app_template.core.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ItemError,
    NotFoundError,
    RateLimited,
    RetryLater,
    RunError,
)
from channel_app_template.core.paging import (
    DEFAULT_MAX_PAGES,
    MAX_PAGES_BOUND,
    Page,
    PageToken,
    walk_pages,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "IDEMPOTENT_METHODS",
    "MAX_RESPONSE_BYTES_BOUND",
    "RETRIABLE_STATUSES",
    "Answer",
    "ApiKeyAuth",
    "Auth",
    "BearerAuth",
    "DeadlineExceeded",
    "HttpClient",
    "Limits",
    "RequestStats",
    "ResponseTooLarge",
    "RetryPolicy",
    "RetryingSender",
    "Timeouts",
    "UnexpectedAnswer",
    "default_classify",
    "encode_json",
    "env_proxy",
    "error_payload",
    "expect_list",
    "expect_object",
    "nothing_was_sent",
    "parse_retry_after",
]

logger = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
# Repeating one of these leaves the server as one execution would (POST never is).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_DEADLINE = 120.0  # seconds for one attempt: connect, send, headers and body
MAX_DEADLINE = 3600.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20  # a page of 1,000 rich Omnitron products is < 10 MiB
MIN_RESPONSE_BYTES = 1024
MAX_RESPONSE_BYTES_BOUND = 2**30
MAX_ERROR_BODY = 2000  # characters of an error body kept on an exception


# ============================================================================== settings
def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds to open a connection, to wait for each read, and for one whole attempt.

    ``total`` is the per-attempt deadline (``HTTP_REQUEST_DEADLINE``); it is checked at every
    read and write, so it bounds a trickling peer too. Bounds: each in (0, 3600].
    """

    connect: float = 5.0
    read: float = 30.0
    total: float = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            _check_range(f"Timeouts.{name}", getattr(self, name), 1e-3, MAX_DEADLINE)


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
        _check_range("RetryPolicy.max_attempts", self.max_attempts, 1, 1000)
        for name in ("backoff_base", "backoff_cap", "max_retry_after", "max_elapsed"):
            _check_range(f"RetryPolicy.{name}", getattr(self, name), 0.0, MAX_DEADLINE)

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (retry_number - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one peer may make us hold: bytes per answer, pages per list, connections.

    Defaults match the settings ``HTTP_MAX_RESPONSE_BYTES`` and ``HTTP_MAX_PAGES``; bounds:
    ``max_response_bytes`` in [1 KiB, 1 GiB], ``max_pages`` in [1, 1,000,000],
    ``pool_size`` in [1, 100].
    """

    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    pool_size: int = 10

    def __post_init__(self) -> None:
        _check_range(
            "Limits.max_response_bytes",
            self.max_response_bytes,
            MIN_RESPONSE_BYTES,
            MAX_RESPONSE_BYTES_BOUND,
        )
        _check_range("Limits.max_pages", self.max_pages, 1, MAX_PAGES_BOUND)
        _check_range("Limits.pool_size", self.pool_size, 1, 100)

    @classmethod
    def from_settings(cls, settings: Any, *, pool_size: int = 10) -> Limits:
        """The limits the deployment configured (``settings``: a loaded ``Settings``)."""
        return cls(
            max_response_bytes=settings.http_max_response_bytes,
            max_pages=settings.http_max_pages,
            pool_size=pool_size,
        )


@dataclasses.dataclass
class RequestStats:
    """Counters for benchmarks and tests; per client, never global."""

    requests: int = 0
    retries: int = 0
    logins: int = 0


# ============================================================================== errors
class ResponseTooLarge(RunError):
    """The peer's answer is bigger than ``Limits.max_response_bytes``; nothing was kept."""

    def __init__(self, message: str, *, peer: str, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer
        self.limit = limit


class DeadlineExceeded(RetryLater):
    """No complete answer within the per-attempt deadline (the last attempt's failure)."""

    def __init__(self, message: str, *, peer: str, deadline: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer
        self.deadline = deadline


class UnexpectedAnswer(RunError):
    """A 2xx answer that is not JSON, or not the shape the caller expects."""

    def __init__(self, message: str, *, peer: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer


# ============================================================================== answers
@dataclasses.dataclass(frozen=True)
class Answer:
    """A final HTTP answer, body read in full (within the byte cap)."""

    status_code: int
    headers: httpx.Headers
    content: bytes | bytearray  # the read buffer itself: a big page is not copied again

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded body; ``ValueError`` when it is not JSON."""
        return json.loads(self.content)


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)  # decimals as strings: no float rounding on the way
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_json(body: object) -> bytes:
    """Compact JSON; decimals and UUIDs as strings, dates in ISO 8601, models as dicts."""
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def error_payload(answer: Answer) -> Any:
    """An error body as kept on an exception: decoded JSON, else the start of its text."""
    try:
        return answer.json()
    except ValueError:
        return answer.text[:MAX_ERROR_BODY]


def expect_object(body: Any, *, peer: str, method: str, path: str) -> dict[str, Any]:
    """``body`` if it is a JSON object, else :class:`UnexpectedAnswer` naming peer and path."""
    if isinstance(body, dict):
        return body
    raise UnexpectedAnswer(
        f"{peer} {method} {path}: expected a JSON object, got {_kind(body)}",
        peer=peer,
        method=method,
        path=path,
    )


def expect_list(
    body: Any, key: str, *, peer: str, method: str, path: str, limit: int | None = None
) -> list[Any]:
    """``body[key]`` if ``body`` is an object holding a list there (of at most ``limit``)."""
    rows = expect_object(body, peer=peer, method=method, path=path).get(key)
    if not isinstance(rows, list):
        raise UnexpectedAnswer(
            f"{peer} {method} {path}: expected a list in {key!r}, got {_kind(rows)}",
            peer=peer,
            method=method,
            path=path,
        )
    if limit is not None and len(rows) > limit:
        raise UnexpectedAnswer(
            f"{peer} {method} {path}: {len(rows)} rows in {key!r}, asked for at most {limit}",
            peer=peer,
            method=method,
            path=path,
        )
    return rows


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


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


# ============================================================================== deadline
# The deadline (time.monotonic) of the attempt running in this thread/context, if any.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "channel_app_template_http_deadline", default=None
)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync socket backend with the deadline applied to every socket operation.

    Per-read timeouts alone let a peer hold a request forever by sending a byte just before
    each one expires; shortening each timeout to what is left of the deadline cannot be
    outrun that way, in the headers or in the body.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY``, unless ``NO_PROXY`` excludes its host), as ``requests`` chose one."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The process's one TLS context (certifi's CA bundle, verification on), shared by
    every client: building one loads the whole CA bundle into OpenSSL, and a client per
    flow run that built its own grew the worker by about 0.25 MB a run, for good
    (``bench/bench_hostile_data.py``)."""
    return httpx.create_ssl_context()


def _transport(pool_size: int, proxy: str | None = None) -> httpx.HTTPTransport:
    """httpx's transport on a connection pool that uses :class:`_DeadlineBackend`.

    httpx has no public argument for httpcore's network backend, so the pool it builds is
    replaced by one built the same way (its ``_pool`` is what ``handle_request`` uses);
    ``tests/unit/test_http_transport.py`` fails if a new httpx stops honouring that.
    """
    transport = httpx.HTTPTransport(retries=0, verify=_tls_context())
    via = None
    if proxy:
        parsed = httpx.Proxy(proxy)
        via = httpcore.Proxy(str(parsed.url), auth=parsed.raw_auth)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_tls_context(),
        proxy=via,
        max_connections=pool_size,
        max_keepalive_connections=pool_size,
        keepalive_expiry=5.0,
        network_backend=_DeadlineBackend(),
    )
    return transport


# ============================================================================== sending
def nothing_was_sent(error: httpx.TransportError) -> bool:
    """True when the request provably never reached the server (refused, DNS, connect
    timeout, no free connection in the pool)."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _tls_failure(error: BaseException) -> bool:
    cause: BaseException | None = error
    for _ in range(5):
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


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
                if _tls_failure(error):
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
        token = _DEADLINE.set(deadline)
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
            _DEADLINE.reset(token)

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


# ============================================================================== auth
class Auth:
    """Credentials for one peer, as a small object (the shape httpx's ``Auth`` has).

    ``apply`` adds headers to each attempt; ``state`` is a dict private to one logical call,
    for flows that need to remember something between attempts (e.g. "already logged in
    again"). ``refused`` is asked after a 401: return true to repeat the request (not
    counted as a retry), false to let the 401 become an :class:`AuthenticationError`.
    The base class sends nothing.
    """

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        """Add this peer's credentials to ``headers``."""

    def refused(self, answer: Answer, state: dict[str, Any]) -> bool:
        return False


class ApiKeyAuth(Auth):
    """A fixed key in a header (``X-Api-Key: ...``)."""

    def __init__(self, key: SecretStr | str, header: str = "X-Api-Key") -> None:
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        if not self._key.get_secret_value():
            raise ConfigurationError("the API key is empty")
        self.header = header

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        headers[self.header] = self._key.get_secret_value()

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self.header!r})"


class BearerAuth(ApiKeyAuth):
    """A fixed token as ``Authorization: Bearer ...``."""

    def __init__(self, token: SecretStr | str) -> None:
        super().__init__(token, "Authorization")

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"

    def __repr__(self) -> str:
        return "BearerAuth()"


# ============================================================================== client
def default_classify(
    answer: Answer, *, peer: str, method: str, path: str, repeatable: bool, payload: Any
) -> Exception:
    """The exception for a final non-2xx answer when the client has no rules of its own."""
    status = answer.status_code
    info: dict[str, Any] = {
        "status_code": status,
        "payload": payload,
        "method": method,
        "path": path,
    }
    detail = str(payload)[:300]
    if 300 <= status < 400:
        return ConfigurationError(
            f"{peer} redirected {method} {path} ({status}); configure its final address",
            **info,
        )
    if status >= 500 and not repeatable:
        return AmbiguousWriteError(
            f"{peer} {method} {path} answered {status}; it may have been applied, look it up "
            "before trying again",
            **info,
        )
    if status >= 500:
        return RetryLater(f"{peer} {method} {path} answered {status}", **info)
    if status in (401, 403):
        return AuthenticationError(f"{peer} refused our credentials ({status})", **info)
    if status in (404, 410):
        return NotFoundError(f"{peer} {method} {path}: not found", **info)
    if status in (400, 409, 422):
        return ItemError(f"{peer} {method} {path} refused ({status}): {detail}", **info)
    return RunError(f"{peer} {method} {path} answered {status}: {detail}", **info)


ClassifyHook = Callable[..., Exception]


class HttpClient:
    """JSON over HTTP with one peer, under the transport rules of this module.

    ``base_url`` is the API root (paths are joined to it); ``peer`` is the name errors and
    logs use ("Omnitron", "Bazaar marketplace"). ``auth`` adds credentials to every attempt;
    ``classify(answer, peer=, method=, path=, repeatable=, payload=)`` maps a final error
    answer to an exception (default: :func:`default_classify`); ``error_payload`` decodes
    an error body for it; ``on_answer`` sees every answer (e.g. to read rate-limit
    headers). A proxy named by the environment (``HTTPS_PROXY``, ``NO_PROXY``...) is used
    as ``requests`` would. ``transport`` replaces the network (``httpx.MockTransport`` in tests; the
    deadline is then enforced only between body chunks).

    One instance per worker thread or task; close it (or use ``with``) when done.
    """

    def __init__(
        self,
        base_url: str,
        *,
        peer: str,
        auth: Auth | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent_methods: Iterable[str] = IDEMPOTENT_METHODS,
        classify: ClassifyHook = default_classify,
        error_payload: Callable[[Answer], Any] = error_payload,
        on_answer: Callable[[Answer], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the {peer} URL must start with https:// (or http://)")
        self.base_url = base_url.rstrip("/") + "/"
        self.peer = peer
        self.auth = auth or Auth()
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.idempotent_methods = frozenset(m.upper() for m in idempotent_methods)
        self._classify = classify
        self._error_payload = error_payload
        self._on_answer = on_answer
        self.client = httpx.Client(
            headers={"Accept": "application/json", **(headers or {})},
            transport=transport or _transport(self.limits.pool_size, env_proxy(self.base_url)),
            follow_redirects=False,
            trust_env=False,
        )
        self.sender = RetryingSender(
            self.client,
            peer,
            timeouts=self.timeouts,
            retry=self.retry,
            limits=self.limits,
            stats=stats,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )

    @property
    def stats(self) -> RequestStats:
        return self.sender.stats

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r}, peer={self.peer!r})"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests
    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
        classify: ClassifyHook | None = None,
    ) -> Answer:
        """One logical call (retried per the rules); the 2xx :class:`Answer`.

        ``path`` is joined to ``base_url``. ``json`` is encoded by :func:`encode_json`.
        ``idempotent`` overrides the method's default (see ``idempotent_methods``): say
        ``True`` for a POST the peer deduplicates, so it may be repeated after doubt.
        """
        method = method.upper()
        repeatable = method in self.idempotent_methods if idempotent is None else idempotent
        body = content if json is None else encode_json(json)
        state: dict[str, Any] = {}
        classify_hook = classify or self._classify

        def prepare() -> Prepared:
            sent = dict(headers or {})
            if body is not None:
                sent.setdefault("Content-Type", "application/json")
            if authenticated:
                self.auth.apply(sent, state)
            return {"params": _query(params), "content": body, "headers": sent}

        def intercept(answer: Answer) -> bool:
            if self._on_answer is not None:
                self._on_answer(answer)
            if answer.status_code == 401 and authenticated:
                return self.auth.refused(answer, state)
            return False

        def classify_final(answer: Answer) -> Exception:
            return classify_hook(
                answer,
                peer=self.peer,
                method=method,
                path=path,
                repeatable=repeatable,
                payload=self._error_payload(answer),
            )

        answer = self.sender.send(
            method,
            self.base_url + path.lstrip("/"),
            path,
            repeatable=repeatable,
            prepare=prepare,
            classify=classify_final,
            intercept=intercept,
            payload_of=self._error_payload,
        )
        if self._on_answer is not None:
            self._on_answer(answer)
        return answer

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`send`, then the decoded JSON body (``None`` for an empty one)."""
        answer = self.send(method, path, **kwargs)
        repeatable = kwargs.get("idempotent")
        if repeatable is None:
            repeatable = method.upper() in self.idempotent_methods
        return self.decode(answer, method.upper(), path, repeatable=repeatable)

    def decode(self, answer: Answer, method: str, path: str, *, repeatable: bool) -> Any:
        """The JSON of a 2xx answer; :class:`UnexpectedAnswer` (or, for a write that may
        have been applied, :class:`AmbiguousWriteError`) when it is not JSON."""
        if answer.status_code == 204 or not answer.content:
            return None
        try:
            return answer.json()
        except ValueError as error:
            kind = answer.headers.get("Content-Type", "no content type").split(";")[0]
            message = (
                f"{self.peer} {method} {path}: answered {answer.status_code} with a body that "
                f"is not JSON ({kind})"
            )
            info: dict[str, Any] = {
                "status_code": answer.status_code,
                "method": method,
                "path": path,
            }
            if not repeatable:
                raise AmbiguousWriteError(
                    message + "; the write may have been applied, look it up", **info
                ) from error
            raise UnexpectedAnswer(message, peer=self.peer, **info) from error

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request("GET", path, params=params, **kwargs)

    def get_object(
        self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """GET a JSON object; anything else is :class:`UnexpectedAnswer`."""
        body = self.request("GET", path, params=params, **kwargs)
        return expect_object(body, peer=self.peer, method="GET", path=path)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def put_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PUT", path, json=body, **kwargs)

    def patch_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    # ------------------------------------------------------------------ paging
    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        style: Literal["offset", "cursor", "page"] = "offset",
        limit: int = 100,
        rows: str = "items",
        next_key: str | None = None,
        count_key: str | None = "count",
        token_param: str | None = None,
        limit_param: str = "limit",
        identity: Callable[[Any], Any] | None = None,
        max_rows: int | None = None,
        headers: Mapping[str, str] | None = None,
        rows_optional: bool = False,
        on_envelope: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[Page]:
        """The pages of one list, under the rules of :mod:`core.paging`.

        ``style`` says how the peer pages: ``offset`` (``offset`` and ``next_offset``),
        ``cursor`` (``cursor`` and ``next_cursor``) or ``page`` (``page`` numbers from 1;
        ``next_key`` is then only read as "there is more"). The default keys follow the
        style; override ``next_key``/``token_param`` for other names. ``identity(row)``
        gives a row's id to spot a page served twice. ``rows_optional`` reads a missing
        ``rows`` key as an empty page; ``on_envelope`` sees every decoded page, empty ones
        too (for the fields around the rows).
        """
        token_param = token_param or {"offset": "offset", "cursor": "cursor", "page": "page"}[style]
        next_key = (
            next_key or {"offset": "next_offset", "cursor": "next_cursor", "page": "next"}[style]
        )
        query = dict(params or {})
        query[limit_param] = limit

        def fetch(token: PageToken | None) -> Page:
            if token is not None:
                query[token_param] = token
            body = expect_object(
                self.request("GET", path, params=query, headers=headers),
                peer=self.peer,
                method="GET",
                path=path,
            )
            if on_envelope is not None:
                on_envelope(body)
            if rows_optional and body.get(rows) is None:
                return Page([], None, None, body)
            found = expect_list(body, rows, peer=self.peer, method="GET", path=path)
            following: Any = body.get(next_key)
            if style == "page":
                following = (token + 1) if following and isinstance(token, int) else None
            count = body.get(count_key) if count_key else None
            if isinstance(count, bool) or not isinstance(count, int):
                count = None
            return Page(found, following, count, body)

        return walk_pages(
            fetch,
            peer=self.peer,
            path=path,
            limit=limit,
            start=1 if style == "page" else (0 if style == "offset" else None),
            ordered=style != "cursor",
            identity=identity,
            max_pages=self.limits.max_pages,
            max_rows=max_rows,
        )

    def iter_rows(
        self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Every row of :meth:`iter_pages`, one page in memory at a time."""
        for page in self.iter_pages(path, params, **kwargs):
            yield from page.rows


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query pairs; lists become repeated parameters, booleans ``true``/``false``."""
    if not params:
        return None
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((name, str(item)))
    return pairs
