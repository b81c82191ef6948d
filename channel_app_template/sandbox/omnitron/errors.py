"""The one exception the simulator's layers raise to produce an Omnitron-shaped error response."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error with an Omnitron-style JSON body (DRF shapes: detail / field lists / error)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, {"detail": "Not found."})


def field_error(field: str, message: str, status: int = 400) -> ApiError:
    return ApiError(status, {field: [message]})
