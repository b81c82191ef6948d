"""Compact JSON responses, shared by the simulators' route modules."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response


def dumps(data: Any) -> bytes:
    """Compact JSON; a non-finite float or a blob (from a bad stored row) is sent as text,
    since ``NaN``/``Infinity`` are not JSON."""
    try:
        text = json.dumps(
            data, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_as_text
        )
    except ValueError:
        text = json.dumps(
            _finite(data), separators=(",", ":"), ensure_ascii=False, default=_as_text
        )
    return text.encode()


def _as_text(value: Any) -> Any:
    """What a bad stored row may hand the serializer besides JSON types (a blob...)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")
