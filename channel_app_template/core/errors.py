"""Deprecated: the exception hierarchy moved to :mod:`channel_app_template.errors` (issue 12).

Integrations written against this path keep working; each name warns when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core._moved import Moved

if TYPE_CHECKING:
    from channel_app_template.errors import (
        AmbiguousWriteError as AmbiguousWriteError,
    )
    from channel_app_template.errors import (
        AuthenticationError as AuthenticationError,
    )
    from channel_app_template.errors import (
        ChannelAppError as ChannelAppError,
    )
    from channel_app_template.errors import (
        ConfigurationError as ConfigurationError,
    )
    from channel_app_template.errors import (
        ItemError as ItemError,
    )
    from channel_app_template.errors import (
        LoginThrottled as LoginThrottled,
    )
    from channel_app_template.errors import (
        MayHaveHappened as MayHaveHappened,
    )
    from channel_app_template.errors import (
        NotFoundError as NotFoundError,
    )
    from channel_app_template.errors import (
        RateLimited as RateLimited,
    )
    from channel_app_template.errors import (
        RetryLater as RetryLater,
    )
    from channel_app_template.errors import (
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
