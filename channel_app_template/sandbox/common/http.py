"""Compact JSON responses, shared by the simulators' route modules."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")
