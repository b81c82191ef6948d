"""How the client talks to the reference marketplace: its address, headers and error rules.

The framework's transport (:class:`~channel_app_template.transport.HttpClient`) does the
talking; this module holds only what is particular to this peer, so the client reads as the
API it wraps.
"""

from __future__ import annotations

from typing import Any

from channel_app_template.errors import AuthenticationError, NotFoundError, RetryLater, RunError
from channel_app_template.transport import Answer, StatusErrors, error_payload

__all__ = [
    "API_KEY_HEADER",
    "API_PREFIX",
    "IDEMPOTENCY_HEADER",
    "MARKETPLACE_ERRORS",
    "MAX_ITEMS_PER_REQUEST",
    "PEER",
    "REPEATABLE_METHODS",
    "USER_AGENT",
    "error_object",
]

API_PREFIX = "/api/v1"
API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "channel_app_template-marketplace/1"
MAX_ITEMS_PER_REQUEST = 1000
PEER = "the reference marketplace"
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


def error_object(answer: Answer) -> Any:
    """The error object of an error body (``{"code", "message", "details"?}``), so that
    ``ChannelAppError.code`` is the marketplace's code; other bodies as they came."""
    body = error_payload(answer)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return body


_REFUSED = "{peer} {method} {path} refused ({status} {code}): {detail}"
# What a final error status means: a malformed request is the run's problem, not an item's.
MARKETPLACE_ERRORS = StatusErrors(
    {
        "3xx": (RunError, _REFUSED),
        "4xx": (RunError, _REFUSED),
        "5xx": (RetryLater, "{peer} {method} {path} answered {status}"),
        **dict.fromkeys(
            (401, 403), (AuthenticationError, "{peer} refused the API key ({status} {code})")
        ),
        404: (NotFoundError, "{peer} {method} {path}: not found"),
    }
)
