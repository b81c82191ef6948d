"""One authenticated, bounded, retrying HTTP conversation with Omnitron.

Everything about the wire lives here so the typed endpoint modules stay one-liners. It is
the framework's one transport (:class:`~channel_app_template.transport.HttpClient`),
configured with Omnitron's parts:

* :class:`TokenAuth`: a token from the shared cache, a login only when there is none, and
  after a 401 another worker's newer token, then one login of our own (the throttled
  :meth:`OmnitronHttp.login`);
* :data:`IDEMPOTENT_METHODS`: which methods may be repeated;
* :data:`OMNITRON_ERRORS` and :data:`LOGIN_ERRORS`: what each final error status means for
  the caller.

Timeouts, the deadline, the byte cap, retries and ambiguous writes are the transport's
(rules: :mod:`channel_app_template.transport._retry`). Secrets (password, token) never reach
a log line, an exception message or a cache key.
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
    AuthenticationError,
    ConfigurationError,
    ItemError,
    LoginThrottled,
    RetryLater,
    RunError,
)
from channel_app_template.transport import (
    DEFAULT_ERRORS,
    Auth,
    AuthFlow,
    Closing,
    HttpClient,
    Limits,
    RequestStats,
    RetryPolicy,
    Timeouts,
    UnexpectedAnswer,
    encode_json,
    error_payload,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "LOGIN_ERRORS",
    "OMNITRON_ERRORS",
    "OmnitronHttp",
    "TokenAuth",
    "encode_json",
    "is_idempotent",
]

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

_ANSWERED = "{peer} {method} {path} answered {status}: {detail}"
# What a final error status from Omnitron means: any other 4xx is this one object refused,
# a 403 is a permission the user lacks, a 401 after the auth's fresh login is bad credentials.
OMNITRON_ERRORS = DEFAULT_ERRORS.but(
    {
        "3xx": (
            ConfigurationError,
            "{peer} redirected {method} {path} ({status}); set OMNITRON_URL to the final "
            "https address",
        ),
        "4xx": (ItemError, "{peer} {method} {path} refused ({status}): {detail}"),
        "5xx": (RunError, _ANSWERED),
        401: (AuthenticationError, "{peer} refused a freshly issued token for {method} {path}"),
        403: (ConfigurationError, "user {user} may not {method} {path} (403)"),
        405: (RunError, _ANSWERED),
    }
)
# The login call's: a refusal is about the credentials, a 5xx is worth another try later.
LOGIN_ERRORS = OMNITRON_ERRORS.but(
    {
        **dict.fromkeys(
            (400, 401, 403),
            (AuthenticationError, "{peer} refused the credentials of user {user} ({status})"),
        ),
        "5xx": (RetryLater, "{peer} login failed with {status}"),
    }
)


def is_idempotent(method: str) -> bool:
    """Whether a request with ``method`` may be repeated after an ambiguous failure."""
    return method.upper() in IDEMPOTENT_METHODS


class TokenAuth(Auth):
    """Omnitron's ``Authorization: Token ...``, shared through a :class:`TokenCache`.

    The first token is the cached one, or ``login()``'s. After a 401 the flow tries once a
    token another thread or worker already stored (many workers see the same expiry: one
    login serves them all), then logs in itself; a 401 on a token of its own login ends the
    flow, and the 401 becomes an :class:`AuthenticationError`.
    """

    def __init__(self, cache: TokenCache, login: Callable[[], str]) -> None:
        self.cache = cache
        self._login = login
        self._token: str | None = None
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> AuthFlow:
        token, own = self.current(), False
        for attempt in range(3):  # the token we hold, a newer one, one of our own login
            request.headers["Authorization"] = f"Token {token}"
            answer = yield request
            if answer.status_code != 401 or own:
                return
            logger.info("Omnitron token rejected; replacing it")
            token, own = self.replace(token, reuse=attempt == 0)

    def current(self) -> str:
        """The token to send: the one held, else the cached one, else a fresh login's."""
        with self._lock:
            if self._token is None:
                self._token = self.cache.get() or self._login()
            return self._token

    def replace(self, rejected: str, *, reuse: bool) -> tuple[str, bool]:
        """After a 401: forget ``rejected``; take a newer token (if ``reuse``) or log in.

        Returns the token and whether it comes from our own login.
        """
        with self._lock:
            self.cache.invalidate(rejected)
            if reuse:
                if self._token is not None and self._token != rejected:
                    return self._token, False
                cached = self.cache.get()
                if cached and cached != rejected:
                    self._token = cached
                    return cached, False
            self._token = None
            self._token = self._login()
            return self._token, True


class OmnitronHttp(Closing):
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
        self._login_errors = LOGIN_ERRORS.but(user=repr(username))
        self.client = HttpClient(
            self.api_url,
            peer="Omnitron",
            auth=TokenAuth(self.token_cache, self.login),
            timeouts=timeouts,
            retry=retry,
            limits=limits or Limits(pool_size=pool_size),
            headers={"User-Agent": "channel_app_template-omnitron/1"},
            idempotent_methods=IDEMPOTENT_METHODS,
            classify=OMNITRON_ERRORS.but(user=repr(username)),
            error_payload=lambda answer: self._scrub(error_payload(answer)),
            transport=transport,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )
        # the client's parts, under the names the endpoint modules and tests read
        self.timeouts = self.client.timeouts
        self.retry = self.client.retry
        self.limits = self.client.limits
        self.sender = self.client.sender
        self.stats: RequestStats = self.client.stats

    def __repr__(self) -> str:
        return f"OmnitronHttp({self.base_url!r}, user={self.username!r})"

    def close(self) -> None:
        self.client.close()

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
            method, path, params=params, json=json_body, headers=headers, idempotent=idempotent
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
        body = {"username": self.username, "password": self._password.get_secret_value()}
        # Logging in twice only returns the same or a fresh token, so it is safe to repeat.
        payload = self.client.request(
            "POST",
            LOGIN_PATH,
            json=body,
            idempotent=True,
            authenticated=False,
            classify=self._login_errors,
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

    # Errors -------------------------------------------------------------------------------

    def _scrub(self, payload: Any) -> Any:
        """Drop our password from a body we keep, in case a server echoes the request."""
        secret = self._password.get_secret_value()
        if not secret:
            return payload
        text = json.dumps(payload) if not isinstance(payload, str) else payload
        if secret not in text:
            return payload
        return text.replace(secret, "***")
