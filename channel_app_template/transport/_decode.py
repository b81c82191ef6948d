"""Answers: the body as read, JSON in and out, and the shape checks that turn a wrong answer
into :class:`UnexpectedAnswer`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from typing import Any

import httpx
from pydantic import BaseModel

from channel_app_template.transport._errors import UnexpectedAnswer

__all__ = [
    "MAX_ERROR_BODY",
    "Answer",
    "encode_json",
    "error_payload",
    "expect_list",
    "expect_object",
]

MAX_ERROR_BODY = 2000  # characters of an error body kept on an exception


@dataclasses.dataclass(frozen=True)
class Answer:
    """A final HTTP answer, body read in full (within the byte cap)."""

    status_code: int
    headers: httpx.Headers
    content: bytes | bytearray  # the read buffer itself: a big page is not copied again

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded body; ``ValueError`` when it is not JSON."""
        return json.loads(self.content)


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)  # decimals as strings: no float rounding on the way
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_json(body: object) -> bytes:
    """Compact JSON; decimals and UUIDs as strings, dates in ISO 8601, models as dicts."""
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def error_payload(answer: Answer) -> Any:
    """An error body as kept on an exception: decoded JSON, else the start of its text."""
    try:
        return answer.json()
    except ValueError:
        return answer.text[:MAX_ERROR_BODY]


def expect_object(body: Any, *, peer: str, method: str, path: str) -> dict[str, Any]:
    """``body`` if it is a JSON object, else :class:`UnexpectedAnswer` naming peer and path."""
    if isinstance(body, dict):
        return body
    raise UnexpectedAnswer(
        f"{peer} {method} {path}: expected a JSON object, got {_kind(body)}",
        peer=peer,
        method=method,
        path=path,
    )


def expect_list(
    body: Any, key: str, *, peer: str, method: str, path: str, limit: int | None = None
) -> list[Any]:
    """``body[key]`` if ``body`` is an object holding a list there (of at most ``limit``)."""
    rows = expect_object(body, peer=peer, method=method, path=path).get(key)
    if not isinstance(rows, list):
        raise UnexpectedAnswer(
            f"{peer} {method} {path}: expected a list in {key!r}, got {_kind(rows)}",
            peer=peer,
            method=method,
            path=path,
        )
    if limit is not None and len(rows) > limit:
        raise UnexpectedAnswer(
            f"{peer} {method} {path}: {len(rows)} rows in {key!r}, asked for at most {limit}",
            peer=peer,
            method=method,
            path=path,
        )
    return rows


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
