"""The transport's own failures, in the package's one exception hierarchy
(:mod:`channel_app_template.errors`).
"""

from __future__ import annotations

from typing import Any

from channel_app_template.errors import (
    RetryLater,
    RunError,
)

__all__ = [
    "DeadlineExceeded",
    "ResponseTooLarge",
    "UnexpectedAnswer",
]


class ResponseTooLarge(RunError):
    """The peer's answer is bigger than ``Limits.max_response_bytes``; nothing was kept."""

    def __init__(self, message: str, *, peer: str, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer
        self.limit = limit


class DeadlineExceeded(RetryLater):
    """No complete answer within the per-attempt deadline (the last attempt's failure)."""

    def __init__(self, message: str, *, peer: str, deadline: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer
        self.deadline = deadline


class UnexpectedAnswer(RunError):
    """A 2xx answer that is not JSON, or not the shape the caller expects."""

    def __init__(self, message: str, *, peer: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.peer = peer
