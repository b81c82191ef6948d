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
    RetryLater,
    RunError,
)
from channel_app_template.core.http import RequestStats, RetryingSender, RetryPolicy, Timeouts

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


def is_idempotent(method: str) -> bool:
    """Whether a request with ``method`` may be repeated after an ambiguous failure."""
    return method.upper() in IDEMPOTENT_METHODS


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
        self.sender = RetryingSender(
            self.session,
            "Omnitron",
            timeouts=self.timeouts,
            retry=self.retry,
            stats=self.stats,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=self._rng,
        )

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
        sent_token: list[str | None] = [None]
        relogged = [False]  # we logged in because of a 401 during this call
        auth_repeats = [0]  # repeats after a 401: reuse a newer token once, then log in once

        def prepare() -> dict[str, Any]:
            headers = dict(extra_headers or {})
            if body is not None:
                headers["Content-Type"] = "application/json"
            if authenticated:
                sent_token[0] = self._current_token()
                headers["Authorization"] = f"Token {sent_token[0]}"
            return {"params": params, "data": body, "headers": headers}

        def refresh_on_401(response: requests.Response) -> bool:
            if response.status_code != 401 or not authenticated or sent_token[0] is None:
                return False
            if relogged[0] or auth_repeats[0] >= 2:
                raise AuthenticationError(
                    f"Omnitron refused a freshly issued token for {method} {path}",
                    status_code=401,
                    method=method,
                    path=path,
                )
            auth_repeats[0] += 1
            logger.info("Omnitron token rejected; replacing it")
            relogged[0] = self._replace_token(sent_token[0], reuse=auth_repeats[0] == 1)
            return True

        return self.sender.send(
            method,
            self.api_url + path.lstrip("/"),
            path,
            repeatable=repeatable,
            prepare=prepare,
            classify=lambda response: self._classify(
                response, method, path, repeatable, authenticated
            ),
            intercept=refresh_on_401,
        )

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
