"""Deprecated: the HTTP transport moved to :mod:`channel_app_template.transport` (issue 12).

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
    from channel_app_template.transport import (
        DEFAULT_DEADLINE as DEFAULT_DEADLINE,
    )
    from channel_app_template.transport import (
        DEFAULT_MAX_PAGES as DEFAULT_MAX_PAGES,
    )
    from channel_app_template.transport import (
        DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES,
    )
    from channel_app_template.transport import (
        IDEMPOTENT_METHODS as IDEMPOTENT_METHODS,
    )
    from channel_app_template.transport import (
        MAX_DEADLINE as MAX_DEADLINE,
    )
    from channel_app_template.transport import (
        MAX_PAGES_BOUND as MAX_PAGES_BOUND,
    )
    from channel_app_template.transport import (
        MAX_RESPONSE_BYTES_BOUND as MAX_RESPONSE_BYTES_BOUND,
    )
    from channel_app_template.transport import (
        RETRIABLE_STATUSES as RETRIABLE_STATUSES,
    )
    from channel_app_template.transport import (
        Answer as Answer,
    )
    from channel_app_template.transport import (
        ApiKeyAuth as ApiKeyAuth,
    )
    from channel_app_template.transport import (
        Auth as Auth,
    )
    from channel_app_template.transport import (
        BearerAuth as BearerAuth,
    )
    from channel_app_template.transport import (
        ClassifyHook as ClassifyHook,
    )
    from channel_app_template.transport import (
        DeadlineExceeded as DeadlineExceeded,
    )
    from channel_app_template.transport import (
        HttpClient as HttpClient,
    )
    from channel_app_template.transport import (
        Limits as Limits,
    )
    from channel_app_template.transport import (
        Page as Page,
    )
    from channel_app_template.transport import (
        PageToken as PageToken,
    )
    from channel_app_template.transport import (
        RequestStats as RequestStats,
    )
    from channel_app_template.transport import (
        ResponseTooLarge as ResponseTooLarge,
    )
    from channel_app_template.transport import (
        RetryingSender as RetryingSender,
    )
    from channel_app_template.transport import (
        RetryPolicy as RetryPolicy,
    )
    from channel_app_template.transport import (
        Timeouts as Timeouts,
    )
    from channel_app_template.transport import (
        UnexpectedAnswer as UnexpectedAnswer,
    )
    from channel_app_template.transport import (
        default_classify as default_classify,
    )
    from channel_app_template.transport import (
        encode_json as encode_json,
    )
    from channel_app_template.transport import (
        env_proxy as env_proxy,
    )
    from channel_app_template.transport import (
        error_payload as error_payload,
    )
    from channel_app_template.transport import (
        expect_list as expect_list,
    )
    from channel_app_template.transport import (
        expect_object as expect_object,
    )
    from channel_app_template.transport import (
        nothing_was_sent as nothing_was_sent,
    )
    from channel_app_template.transport import (
        parse_retry_after as parse_retry_after,
    )
    from channel_app_template.transport import (
        walk_pages as walk_pages,
    )
    from channel_app_template.transport._decode import (
        MAX_ERROR_BODY as MAX_ERROR_BODY,
    )
    from channel_app_template.transport._limits import (
        MIN_RESPONSE_BYTES as MIN_RESPONSE_BYTES,
    )
    from channel_app_template.transport._sender import (
        Classify as Classify,
    )
    from channel_app_template.transport._sender import (
        Intercept as Intercept,
    )
    from channel_app_template.transport._sender import (
        Prepared as Prepared,
    )

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "IDEMPOTENT_METHODS",
    "MAX_DEADLINE",
    "MAX_ERROR_BODY",
    "MAX_PAGES_BOUND",
    "MAX_RESPONSE_BYTES_BOUND",
    "MIN_RESPONSE_BYTES",
    "RETRIABLE_STATUSES",
    "AmbiguousWriteError",
    "Answer",
    "ApiKeyAuth",
    "Auth",
    "AuthenticationError",
    "BearerAuth",
    "ChannelAppError",
    "Classify",
    "ClassifyHook",
    "ConfigurationError",
    "DeadlineExceeded",
    "HttpClient",
    "Intercept",
    "ItemError",
    "Limits",
    "LoginThrottled",
    "MayHaveHappened",
    "NotFoundError",
    "Page",
    "PageToken",
    "Prepared",
    "RateLimited",
    "RequestStats",
    "ResponseTooLarge",
    "RetryLater",
    "RetryPolicy",
    "RetryingSender",
    "RunError",
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
    "walk_pages",
]

_MOVED = Moved(
    __name__,
    {
        "channel_app_template.transport": (
            "Answer",
            "ApiKeyAuth",
            "Auth",
            "BearerAuth",
            "ClassifyHook",
            "DEFAULT_DEADLINE",
            "DEFAULT_MAX_PAGES",
            "DEFAULT_MAX_RESPONSE_BYTES",
            "DeadlineExceeded",
            "HttpClient",
            "IDEMPOTENT_METHODS",
            "Limits",
            "MAX_DEADLINE",
            "MAX_PAGES_BOUND",
            "MAX_RESPONSE_BYTES_BOUND",
            "Page",
            "PageToken",
            "RETRIABLE_STATUSES",
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
            "walk_pages",
        ),
        "channel_app_template.transport._decode": ("MAX_ERROR_BODY",),
        "channel_app_template.transport._limits": ("MIN_RESPONSE_BYTES",),
        "channel_app_template.transport._sender": (
            "Classify",
            "Intercept",
            "Prepared",
        ),
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
