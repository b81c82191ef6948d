"""One authenticated, bounded, retrying HTTP conversation with Omnitron.

Everything about the wire lives here so the typed endpoint modules stay one-liners. It is
the framework's one transport (:class:`~channel_app_template.transport.HttpClient`) with
Omnitron's rules added:

* a token from the shared cache, a login only when there is none, and on a 401 exactly one
  re-login and one repeat of the request (:class:`_TokenAuth`);
* which methods may be repeated (:data:`IDEMPOTENT_METHODS`) and what each error status
  means for the caller (:meth:`OmnitronHttp._classify`);
* the transport's timeouts, per-request deadline, answer-size cap, retries with backoff and
  ``Retry-After``, and ambiguous-write rule, unchanged.

Secrets (password, token) never reach a log line, an exception message or a cache key.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from channel_app_template.akinon.token_cache import (
    DEFAULT_MAX_LOGINS,
    MemoryTokenCache,
    TokenCache,
)
from channel_app_template.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ItemError,
    LoginThrottled,
    NotFoundError,
    RetryLater,
    RunError,
)
from channel_app_template.transport import (
    Answer,
    Auth,
    HttpClient,
    Limits,
    RequestStats,
    RetryPolicy,
    Timeouts,
    UnexpectedAnswer,
    encode_json,
    error_payload,
)

__all__ = ["IDEMPOTENT_METHODS", "OmnitronHttp", "encode_json", "is_idempotent"]

logger = logging.getLogger(__name__)

API_PREFIX = "api/v1/"
LOGIN_PATH = "auth/login/"
# Methods whose repetition leaves the server as one execution would. PATCH is included on
# purpose: every PATCH Omnitron's channel API takes (channel, order items, integration actions,
# customers, category nodes, attributes) sets absolute field values, so applying it twice
# equals applying it once. The one PATCH with state-machine semantics, a batch request's status,
# is made safe by CatalogApi.transition_batch_request: a repeated move to the status the batch
# already has is answered 406 and reconciled by reading the batch back. POST is never included.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


def is_idempotent(method: str) -> bool:
    """Whether a request with ``method`` may be repeated after an ambiguous failure."""
    return method.upper() in IDEMPOTENT_METHODS


def _describe_payload(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return text[:300]


class _TokenAuth(Auth):
    """Omnitron's ``Authorization: Token ...``, refreshed once per call after a 401.

    The first 401 of a call tries a token another worker may already have stored, the
    second logs in; a 401 after our own fresh login is an :class:`AuthenticationError`.
    """

    def __init__(self, owner: OmnitronHttp) -> None:
        self._owner = owner

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        state["sent"] = self._owner._current_token()
        headers["Authorization"] = f"Token {state['sent']}"

    def refused(self, answer: Answer, state: dict[str, Any]) -> bool:
        repeats = int(state.get("repeats", 0))
        if state.get("sent") is None or state.get("relogged") or repeats >= 2:
            return False  # classified as AuthenticationError
        state["repeats"] = repeats + 1
        logger.info("Omnitron token rejected; replacing it")
        state["relogged"] = self._owner._replace_token(state["sent"], reuse=repeats == 0)
        return True


class OmnitronHttp:
    """Authenticated JSON requests to one Omnitron as one user.

    Not shared between threads running requests concurrently; make one per worker thread
    or task. ``transport`` replaces the network (``httpx.MockTransport`` in tests).
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
        limits: Limits | None = None,
        max_logins_per_window: int = DEFAULT_MAX_LOGINS,
        pool_size: int = 10,
        transport: httpx.BaseTransport | None = None,
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
        self.max_logins_per_window = max_logins_per_window
        self._token: str | None = None
        self._token_lock = threading.Lock()
        if limits is None:
            limits = Limits(pool_size=pool_size)
        self.client = HttpClient(
            self.api_url,
            peer="Omnitron",
            auth=_TokenAuth(self),
            timeouts=timeouts,
            retry=retry,
            limits=limits,
            headers={"User-Agent": "channel_app_template-omnitron/1"},
            idempotent_methods=IDEMPOTENT_METHODS,
            classify=self._classify,
            error_payload=lambda answer: self._scrub(error_payload(answer)),
            transport=transport,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )
        self.timeouts = self.client.timeouts
        self.retry = self.client.retry
        self.limits = self.client.limits
        self.sender = self.client.sender

    @property
    def stats(self) -> RequestStats:
        return self.client.stats

    def __repr__(self) -> str:
        return f"OmnitronHttp({self.base_url!r}, user={self.username!r})"

    def close(self) -> None:
        self.client.close()

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
        return self.client.request(
            method,
            path,
            params=params,
            content=None if json_body is None else encode_json(json_body),
            headers=headers,
            idempotent=idempotent,
        )

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
        payload = self.client.request(
            "POST",
            LOGIN_PATH,
            content=body,
            idempotent=True,
            authenticated=False,
            classify=self._classify_login,
        )
        token = payload.get("key") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise UnexpectedAnswer(
                f"Omnitron POST {LOGIN_PATH}: the login answer has no token 'key'",
                peer="Omnitron",
                method="POST",
                path=LOGIN_PATH,
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

    # Errors -------------------------------------------------------------------------------

    def _classify_login(
        self, answer: Answer, *, peer: str, method: str, path: str, repeatable: bool, payload: Any
    ) -> Exception:
        """The exception for a final non-2xx answer to the login call."""
        status = answer.status_code
        info: dict[str, Any] = {
            "status_code": status,
            "payload": payload,
            "method": method,
            "path": path,
        }
        if status in (400, 401, 403):
            return AuthenticationError(
                f"Omnitron refused the credentials of user {self.username!r} ({status})",
                **info,
            )
        if status >= 500:
            return RetryLater(f"Omnitron login failed with {status}", **info)
        return self._classify(
            answer, peer=peer, method=method, path=path, repeatable=repeatable, payload=payload
        )

    def _classify(
        self, answer: Answer, *, peer: str, method: str, path: str, repeatable: bool, payload: Any
    ) -> Exception:
        """The exception for a final non-2xx answer."""
        status = answer.status_code
        detail = _describe_payload(payload)
        info: dict[str, Any] = {
            "status_code": status,
            "payload": payload,
            "method": method,
            "path": path,
        }
        if 300 <= status < 400:
            return ConfigurationError(
                f"Omnitron redirected {method} {path} ({status}); set OMNITRON_URL to the "
                "final https address",
                **info,
            )
        if status >= 500:
            if not repeatable:
                return AmbiguousWriteError(
                    f"Omnitron {method} {path} answered {status}; the write may have been "
                    "applied, look it up before trying again",
                    **info,
                )
            return RunError(f"Omnitron {method} {path} answered {status}: {detail}", **info)
        if status in (404, 410):
            return NotFoundError(f"Omnitron {method} {path}: not found", **info)
        if status == 403:
            return ConfigurationError(
                f"user {self.username!r} may not {method} {path} (403)", **info
            )
        if status == 401:
            return AuthenticationError(
                f"Omnitron refused a freshly issued token for {method} {path}", **info
            )
        if status == 405:
            return RunError(f"Omnitron {method} {path} answered {status}: {detail}", **info)
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
