"""The marketplace's error envelope: ``{"error": {"code", "message", "details"?}}``.

``code`` is machine-readable and stable; ``message`` is for people. Whole-request failures use
these; per-item failures travel inside 200/202 bodies as ``reasons``/``error`` (see catalog.py).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from channel_app_template.sandbox.common.errors import ApiError
from channel_app_template.sandbox.common.http import json_response

__all__ = ["ApiError", "api_error", "error_body", "not_allowed"]

FAULT_MESSAGES = {
    429: ("rate_limited", "Too many requests."),
    500: ("internal_error", "Internal server error."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("unavailable", "Service temporarily unavailable."),
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def api_error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> ApiError:
    return ApiError(status, error_body(code, message, details), headers)


def fault_body(status: int) -> dict[str, Any]:
    """Bodies of errors injected by the fault layer, in the marketplace's own shape."""
    code, message = FAULT_MESSAGES.get(status, ("internal_error", "Internal server error."))
    return error_body(code, message)


def not_found(what: str = "resource") -> ApiError:
    return api_error(404, "not_found", f"No such {what}.")


def not_allowed(method: str) -> Response:
    return json_response(error_body("method_not_allowed", f"Method {method} not allowed."), 405)
