"""Where Omnitron tokens are shared between processes, and how often we may log in.

Every worker talking to the same Omnitron as the same user should reuse one token instead of
logging in per task, so the token lives in Redis. The key is a hash of (Omnitron URL, user):
two apps or two users on one Redis never share or overwrite each other's token, and neither
the password nor the token appear in a key. Tokens get a TTL so a leaked cache entry does not
live forever, and logins are counted per window so that a bug or a flapping password cannot
hammer Omnitron's login endpoint from every worker at once.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

import redis

from channel_app_template.errors import RetryLater

P = ParamSpec("P")
R = TypeVar("R")

KEY_PREFIX = "channel_app_template:omnitron"
DEFAULT_TOKEN_TTL = 6 * 60 * 60  # seconds; Omnitron tokens do not expire, a 401 refreshes anyway
DEFAULT_MAX_LOGINS = 5
DEFAULT_LOGIN_WINDOW = 300  # seconds

# Delete the key only if it still holds the token we saw fail; another worker may already
# have stored a fresh one, which must survive.
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# Count one login; start the window on the first one. Returns (count, seconds left).
_COUNT_LOGIN = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


def _redis_errors_are_transient(method: Callable[P, R]) -> Callable[P, R]:
    """Redis down or slow is a reason to retry the task later, not a crash with redis' types."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as error:
            raise RetryLater(f"the token cache is unavailable ({type(error).__name__})") from error

    return wrapper


def cache_namespace(base_url: str, username: str) -> str:
    """A stable, secret-free id for (Omnitron URL, user)."""
    normalized = base_url.strip().rstrip("/").lower()
    digest = hashlib.sha256(f"{normalized}\n{username}".encode()).hexdigest()
    return digest[:32]


class TokenCache(Protocol):
    """What the HTTP layer needs from a token store."""

    def get(self) -> str | None: ...

    def set(self, token: str) -> None: ...

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one."""

    def count_login(self) -> tuple[int, float]:
        """Record one login; return (logins in the current window, seconds until it ends)."""


class RedisTokenCache:
    """A token shared by every process using the same Redis, Omnitron and user."""

    def __init__(
        self,
        client: redis.Redis,
        base_url: str,
        username: str,
        *,
        ttl: int = DEFAULT_TOKEN_TTL,
        login_window: int = DEFAULT_LOGIN_WINDOW,
    ) -> None:
        namespace = cache_namespace(base_url, username)
        self._redis = client
        self.token_key = f"{KEY_PREFIX}:token:{namespace}"
        self.login_key = f"{KEY_PREFIX}:logins:{namespace}"
        self._ttl = ttl
        self._window = login_window

    @classmethod
    def from_dsn(cls, dsn: str, base_url: str, username: str, **kwargs: int) -> RedisTokenCache:
        client = redis.Redis.from_url(dsn, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, base_url, username, **kwargs)

    @_redis_errors_are_transient
    def get(self) -> str | None:
        value = self._redis.get(self.token_key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    @_redis_errors_are_transient
    def set(self, token: str) -> None:
        self._redis.set(self.token_key, token, ex=self._ttl)

    @_redis_errors_are_transient
    def invalidate(self, token: str) -> None:
        self._redis.eval(_DELETE_IF_EQUAL, 1, self.token_key, token)

    @_redis_errors_are_transient
    def count_login(self) -> tuple[int, float]:
        count, ttl = self._redis.eval(_COUNT_LOGIN, 1, self.login_key, self._window)
        return int(count), float(ttl)


class MemoryTokenCache:
    """A per-process cache with the same behaviour, for tests and single-process tools."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TOKEN_TTL,
        login_window: float = DEFAULT_LOGIN_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._window = login_window
        self._clock = clock
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None
        self._logins: list[float] = []

    def get(self) -> str | None:
        with self._lock:
            if self._token is None or self._token[1] <= self._clock():
                return None
            return self._token[0]

    def set(self, token: str) -> None:
        with self._lock:
            self._token = (token, self._clock() + self._ttl)

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token is not None and self._token[0] == token:
                self._token = None

    def count_login(self) -> tuple[int, float]:
        with self._lock:
            now = self._clock()
            if self._logins and self._logins[0] + self._window <= now:
                self._logins = []
            self._logins.append(now)
            return len(self._logins), self._logins[0] + self._window - now
