"""The project's one exception hierarchy, split by what the caller should do next.

Callers branch on the *class*, never on messages or status codes:

* :class:`RetryLater` - nothing happened (or nothing harmful); run the same work again later,
  after ``retry_after`` seconds when known (Omnitron down, rate limited, login throttled).
* :class:`MayHaveHappened` - the outcome is unknown. :class:`AmbiguousWriteError` means a
  non-idempotent write may have been applied; look it up (e.g. the order by number) before
  trying again, never repeat it blindly.
* :class:`ItemError` - this one object was refused (validation, not found, illegal state);
  report it and carry on with the others.
* :class:`RunError` - the run cannot go on (the peer broke its contract); stop and alert.
* :class:`ConfigurationError` - a human must fix the configuration (bad credentials, no
  permission); retrying will not help.

HTTP details, when there are any, ride along as ``status_code``, ``payload`` (the decoded
error body, already free of our secrets), ``method`` and ``path`` (never the query string,
which may hold personal data).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmbiguousWriteError",
    "AuthenticationError",
    "ChannelAppError",
    "ConfigurationError",
    "ItemError",
    "LoginThrottled",
    "MayHaveHappened",
    "NotFoundError",
    "RateLimited",
    "RetryLater",
    "RunError",
]


class ChannelAppError(Exception):
    """Base of every error this project raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        payload: Any = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.payload = payload
        self.method = method
        self.path = path

    @property
    def code(self) -> str | None:
        """Omnitron's machine-readable error ``code`` from the body, when it sent one."""
        if isinstance(self.payload, dict):
            code = self.payload.get("code")
            return str(code) if code is not None else None
        return None


class RetryLater(ChannelAppError):
    """Transient: nothing was changed for sure; the same call may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """The peer said 429 for longer than we are willing to wait inside one call."""


class LoginThrottled(RetryLater):
    """Our own guard refused another login: too many in the current window."""


class MayHaveHappened(ChannelAppError):
    """The outcome of the call is unknown: it may or may not have taken effect."""


class AmbiguousWriteError(MayHaveHappened):
    """A non-idempotent write may have been applied; look it up before any retry."""


class ItemError(ChannelAppError):
    """The peer refused this one object (400, 404, 406, 409...); fail the item, not the run."""


class NotFoundError(ItemError):
    """The object does not exist (404), or a lookup that needs exactly one match found none."""


class RunError(ChannelAppError):
    """The run cannot continue: an unexpected response or a broken contract."""


class ConfigurationError(ChannelAppError):
    """A human must fix the configuration; retrying the same call cannot help."""


class AuthenticationError(ConfigurationError):
    """Omnitron refused the credentials, or refuses a fresh token."""
