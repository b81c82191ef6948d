"""The one exception a simulator's layers raise to produce an error response of any shape."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error with a JSON body; each simulator builds bodies in its peer's own shape."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}
