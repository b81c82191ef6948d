"""Deprecated: the exception hierarchy moved to :mod:`channel_app_template.errors` (issue 12).

Integrations written against this path keep working; each name warns when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core._moved import Moved

if TYPE_CHECKING:
    from channel_app_template.errors import (
        AmbiguousWriteError as AmbiguousWriteError,
        AuthenticationError as AuthenticationError,
        ChannelAppError as ChannelAppError,
        ConfigurationError as ConfigurationError,
        ItemError as ItemError,
        LoginThrottled as LoginThrottled,
        MayHaveHappened as MayHaveHappened,
        NotFoundError as NotFoundError,
        RateLimited as RateLimited,
        RetryLater as RetryLater,
        RunError as RunError,
    )

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

_MOVED = Moved(
    __name__,
    {
        "channel_app_template.errors": (
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
        ),
    },
)


def __getattr__(name: str) -> Any:
    return _MOVED(name)
