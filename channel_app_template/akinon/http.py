"""One authenticated, bounded, retrying HTTP conversation with Omnitron.

Everything about the wire lives here so the typed endpoint modules stay one-liners:

* one ``requests.Session`` per instance (connection reuse, no shared global client);
* a token from the shared cache, a login only when there is none, and on a 401 exactly one
  re-login and one repeat of the request;
* a (connect, read) timeout on every request, a bounded number of attempts and a bounded
  total time per call;
* retries with exponential backoff and jitter only where repeating cannot do harm (see
  :func:`is_idempotent`), ``Retry-After`` honoured on 429/503;
* a write whose fate is unknown raises :class:`AmbiguousWriteError` instead of being repeated.

Secrets (password, token) never reach a log line, an exception message or a cache key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import email.utils
import enum
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3.exceptions
from pydantic import BaseModel, SecretStr
from requests.adapters import HTTPAdapter

from channel_app_template.akinon.token_cache import (
    DEFAULT_MAX_LOGINS,
    MemoryTokenCache,
    TokenCache,
)
from channel_app_template.core.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ItemError,
    LoginThrottled,
    NotFoundError,
    RateLimited,
    RetryLater,
    RunError,
)

logger = logging.getLogger(__name__)

API_PREFIX = "api/v1/"
LOGIN_PATH = "auth/login/"
RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
# Methods whose repetition leaves the server as one execution would. PATCH is included on
# purpose: every PATCH Omnitron's channel API takes (channel, order items, integration actions,
# customers, category nodes, attributes) sets absolute field values, so applying it twice
# equals applying it once. The one PATCH with state-machine semantics, a batch request's status,
# is made safe by CatalogApi.transition_batch_request: a repeated move to the status the batch
# already has is answered 406 and reconciled by reading the batch back. POST is never included.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
MAX_ERROR_BODY = 2000  # characters of an error body kept on an exception


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


def is_idempotent(method: str) -> bool:
    """Whether a request with ``method`` may be repeated after an ambiguous failure."""
    return method.upper() in IDEMPOTENT_METHODS


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


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)  # Omnitron takes decimals as strings
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot send {type(value).__name__} to Omnitron as JSON")


def encode_json(body: object) -> bytes:
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def _nothing_was_sent(error: requests.RequestException) -> bool:
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


def _decode_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_ERROR_BODY]


def _describe_payload(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return text[:300]


class OmnitronHttp:
    """Authenticated JSON requests to one Omnitron as one user.

    Not shared between threads running requests concurrently (``requests.Session`` is not
    documented as thread-safe); make one per worker thread or task.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: SecretStr | str,
        *,
        token_cache: TokenCache | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_logins_per_window: int = DEFAULT_MAX_LOGINS,
        pool_size: int = 10,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError("the Omnitron URL must start with https:// (or http://)")
        if not username:
            raise ConfigurationError("the Omnitron username is empty")
        self.base_url = base_url.rstrip("/") + "/"
        self.api_url = self.base_url + API_PREFIX
        self.username = username
        self._password = password if isinstance(password, SecretStr) else SecretStr(password)
        self.token_cache: TokenCache = token_cache or MemoryTokenCache()
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.max_logins_per_window = max_logins_per_window
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()  # jitter only, not cryptography
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "channel_app_template-omnitron/1"}
        )
        self.stats = RequestStats()

    def __repr__(self) -> str:
        return f"OmnitronHttp({self.base_url!r}, user={self.username!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OmnitronHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Public API ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: object = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one logical call; return the decoded JSON body (``None`` for an empty one).

        ``path`` is relative to ``/api/v1/`` and keeps Omnitron's trailing slash.
        ``idempotent`` overrides the method's default (see :data:`IDEMPOTENT_METHODS`).
        """
        method = method.upper()
        repeatable = is_idempotent(method) if idempotent is None else idempotent
        body = None if json_body is None else encode_json(json_body)
        response = self._exchange(
            method, path, params, body, headers, repeatable=repeatable, authenticated=True
        )
        return self._decode_success(response, method, path, repeatable)

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request("GET", path, params=params, **kwargs)

    def post(self, path: str, body: object, **kwargs: Any) -> Any:
        return self.request("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: object, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def login(self) -> str:
        """Log in now (counted by the storm guard), cache the token and return it."""
        count, window_left = self.token_cache.count_login()
        if count > self.max_logins_per_window:
            raise LoginThrottled(
                f"refusing Omnitron login number {count} within the guard window "
                f"(at most {self.max_logins_per_window}); check the credentials",
                retry_after=window_left,
                method="POST",
                path=LOGIN_PATH,
            )
        body = encode_json(
            {"username": self.username, "password": self._password.get_secret_value()}
        )
        # Logging in twice only returns the same or a fresh token, so it is safe to repeat.
        response = self._exchange(
            "POST", LOGIN_PATH, None, body, None, repeatable=True, authenticated=False
        )
        payload = _decode_body(response)
        token = payload.get("key") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise RunError(
                "Omnitron's login answer has no token 'key'", method="POST", path=LOGIN_PATH
            )
        self.stats.logins += 1
        self.token_cache.set(token)
        logger.info("logged in to Omnitron as %s", self.username)
        return token

    # Token handling -----------------------------------------------------------------------

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self.token_cache.get() or self.login()
            return self._token

    def _replace_token(self, rejected: str, *, reuse: bool) -> bool:
        """After a 401: forget ``rejected``; reuse a newer token (if ``reuse``) or log in.

        Returns whether we logged in. A newer token is one another thread or worker already
        got; trying it first saves a login when many workers see the same expiry.
        """
        with self._token_lock:
            self.token_cache.invalidate(rejected)
            if reuse:
                if self._token is not None and self._token != rejected:
                    return False
                cached = self.token_cache.get()
                if cached and cached != rejected:
                    self._token = cached
                    return False
            self._token = None
            self._token = self.login()
            return True

    # The retry loop -----------------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        extra_headers: Mapping[str, str] | None,
        *,
        repeatable: bool,
        authenticated: bool,
    ) -> requests.Response:
        """Send until a final answer; return a 2xx response or raise a classified error."""
        url = self.api_url + path.lstrip("/")
        started = self._clock()
        attempt = 0
        relogged = False  # we logged in because of a 401 during this call
        auth_repeats = 0  # repeats after a 401: reuse a newer token once, then log in once
        while True:
            attempt += 1
            headers = dict(extra_headers or {})
            if body is not None:
                headers["Content-Type"] = "application/json"
            token = None
            if authenticated:
                token = self._current_token()
                headers["Authorization"] = f"Token {token}"
            try:
                self.stats.requests += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=body,
                    headers=headers,
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as error:
                raise ConfigurationError(
                    f"TLS with Omnitron failed for {method} {path}: {type(error).__name__}",
                    method=method,
                    path=path,
                ) from error
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ) as error:
                raise ConfigurationError(
                    f"bad Omnitron URL for {method} {path}", method=method, path=path
                ) from error
            except requests.RequestException as error:
                safe = repeatable or _nothing_was_sent(error)
                what = type(error).__name__
                if not safe:
                    raise AmbiguousWriteError(
                        f"{method} {path} failed with {what} after the request may have "
                        "reached Omnitron; look the object up before trying again",
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
            logger.debug(
                "omnitron %s %s -> %s (attempt %s, %.3fs)",
                method,
                path,
                status,
                attempt,
                response.elapsed.total_seconds(),
            )
            if status < 300:
                return response
            if status == 401 and authenticated and token is not None:
                if relogged or auth_repeats >= 2:
                    raise AuthenticationError(
                        f"Omnitron refused a freshly issued token for {method} {path}",
                        status_code=status,
                        method=method,
                        path=path,
                    )
                auth_repeats += 1
                attempt -= 1  # repeating with a new token is not a retry
                logger.info("Omnitron token rejected; replacing it")
                relogged = self._replace_token(token, reuse=auth_repeats == 1)
                continue
            if status in (408, 429) or (status in RETRIABLE_STATUSES and repeatable):
                # 408/429: the server refused to process the request, so even a write is safe.
                hinted = None
                if status in (429, 503):
                    hinted = parse_retry_after(
                        response.headers.get("Retry-After"), self._wall_clock()
                    )
                delay = hinted if hinted is not None else self.retry.backoff(attempt, self._rng)
                if hinted is not None and hinted > self.retry.max_retry_after:
                    raise RateLimited(
                        f"Omnitron asked to wait {hinted:.0f}s before {method} {path}",
                        retry_after=hinted,
                        status_code=status,
                        method=method,
                        path=path,
                    )
                if self._may_retry(attempt, started, delay):
                    response.close()
                    self._pause(method, path, str(status), attempt, delay)
                    continue
                error_class = RateLimited if status == 429 else RetryLater
                raise error_class(
                    f"{method} {path} answered {status} {attempt} times",
                    retry_after=hinted,
                    status_code=status,
                    method=method,
                    path=path,
                )
            raise self._classify(response, method, path, repeatable, authenticated)

    def _may_retry(self, attempt: int, started: float, delay: float) -> bool:
        if attempt >= self.retry.max_attempts:
            return False
        return (self._clock() - started) + delay <= self.retry.max_elapsed

    def _pause(self, method: str, path: str, reason: str, attempt: int, delay: float) -> None:
        self.stats.retries += 1
        logger.warning(
            "omnitron %s %s: %s; retry %s/%s in %.2fs",
            method,
            path,
            reason,
            attempt,
            self.retry.max_attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _classify(
        self,
        response: requests.Response,
        method: str,
        path: str,
        repeatable: bool,
        authenticated: bool,
    ) -> Exception:
        """The exception for a final non-2xx answer."""
        status = response.status_code
        payload = self._scrub(_decode_body(response))
        detail = _describe_payload(payload)
        info: dict[str, Any] = {
            "status_code": status,
            "payload": payload,
            "method": method,
            "path": path,
        }
        if not authenticated:  # the login call
            if status in (400, 401, 403):
                return AuthenticationError(
                    f"Omnitron refused the credentials of user {self.username!r} ({status})",
                    **info,
                )
            if status >= 500:
                return RetryLater(f"Omnitron login failed with {status}", **info)
        if 300 <= status < 400:
            return ConfigurationError(
                f"Omnitron redirected {method} {path} ({status}); set OMNITRON_URL to the "
                "final https address",
                **info,
            )
        if status >= 500:
            if not repeatable:
                return AmbiguousWriteError(
                    f"{method} {path} answered {status}; the write may have been applied, "
                    "look it up before trying again",
                    **info,
                )
            return RunError(f"{method} {path} answered {status}: {detail}", **info)
        if status in (404, 410):
            return NotFoundError(f"{method} {path}: not found", **info)
        if status == 403:
            return ConfigurationError(
                f"user {self.username!r} may not {method} {path} (403)", **info
            )
        if status in (401, 405):
            return RunError(f"{method} {path} answered {status}: {detail}", **info)
        return ItemError(f"{method} {path} refused ({status}): {detail}", **info)

    def _scrub(self, payload: Any) -> Any:
        """Drop our password from a body we keep, in case a server echoes the request."""
        secret = self._password.get_secret_value()
        if not secret:
            return payload
        text = json.dumps(payload) if not isinstance(payload, str) else payload
        if secret not in text:
            return payload
        return text.replace(secret, "***")

    def _decode_success(
        self, response: requests.Response, method: str, path: str, repeatable: bool
    ) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            error_class = RunError if repeatable else AmbiguousWriteError
            raise error_class(
                f"{method} {path} answered {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
                method=method,
                path=path,
            ) from error


@dataclasses.dataclass
class RequestStats:
    """Counters for benchmarks and tests; per instance, never global."""

    requests: int = 0
    retries: int = 0
    logins: int = 0
