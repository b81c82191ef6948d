"""The one exception the simulator's layers raise to produce an Omnitron-shaped error response."""

from __future__ import annotations

from channel_app_template.sandbox.common.errors import ApiError

__all__ = ["ApiError", "field_error", "not_found"]


def not_found() -> ApiError:
    return ApiError(404, {"detail": "Not found."})


def field_error(field: str, message: str, status: int = 400) -> ApiError:
    return ApiError(status, {field: [message]})
