"""Token auth as Omnitron does it (DRF ``Token``), plus the expiry knobs the fault layer sets.

Real Omnitron tokens never expire; expiry here exists only to exercise a client's
re-login-once path (``--token-ttl``, ``--token-max-uses``, ``POST /_sandbox/tokens/expire/``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from starlette.requests import Request

from .errors import ApiError
from .store import Store

UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}


@dataclass
class AuthPolicy:
    """Mutable at run time through ``/_sandbox/faults/``."""

    token_ttl_seconds: float | None = None
    token_max_uses: int | None = None
    login_limit: int | None = None  # logins allowed per window before 429 # [INF]
    login_window_seconds: float = 60.0
    logins: deque[float] = field(default_factory=deque)


def login(store: Store, policy: AuthPolicy, body: object) -> str:
    """``{"username","password"}`` -> token key; 400 ``non_field_errors`` on bad credentials."""
    now = time.time()
    if policy.login_limit is not None:
        while policy.logins and policy.logins[0] < now - policy.login_window_seconds:
            policy.logins.popleft()
        if len(policy.logins) >= policy.login_limit:
            raise ApiError(
                429,
                {"detail": "Request was throttled."},
                {"Retry-After": str(int(policy.login_window_seconds))},
            )
        policy.logins.append(now)
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    errors: dict[str, list[str]] = {}
    for name in ("username", "password"):
        if not body.get(name):
            errors[name] = ["This field is required."]
    if errors:
        raise ApiError(400, errors)
    if not store.check_login(str(body["username"]), str(body["password"])):
        raise ApiError(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
    return store.new_token(str(body["username"]), now)


def authenticate(store: Store, policy: AuthPolicy, request: Request) -> str:
    """Return the token key or raise 401 with DRF's messages."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header or scheme.lower() != "token":
        raise ApiError(401, UNAUTHENTICATED, {"WWW-Authenticate": "Token"})
    key = key.strip()
    used = store.use_token(key) if key else None
    if used is None:
        raise ApiError(401, INVALID_TOKEN, {"WWW-Authenticate": "Token"})
    created, uses = used
    expired = (
        policy.token_ttl_seconds is not None and time.time() - created > policy.token_ttl_seconds
    ) or (policy.token_max_uses is not None and uses > policy.token_max_uses)
    if expired:
        store.revoke_token(key)
        # wording of the expiry message # [INF]
        raise ApiError(401, {"detail": "Token has expired."}, {"WWW-Authenticate": "Token"})
    return key
