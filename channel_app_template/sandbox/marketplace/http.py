"""Request parsing shared by the route modules: JSON bodies, bulk envelopes, paging."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .catalog import MAX_ITEMS
from .errors import api_error

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_PAGE = 1000


async def read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise api_error(413, "payload_too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes.")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise api_error(413, "payload_too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise api_error(400, "invalid_json", f"The body is not valid JSON: {exc}") from None


async def read_items(request: Request) -> list[Any]:
    """``{"items": [...]}`` with 1..1000 entries; 400 / 413 for the whole request otherwise."""
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise api_error(400, "invalid_request", 'Expected an object {"items": [...]}.')
    items: list[Any] = body["items"]
    if not items:
        raise api_error(400, "invalid_request", "items must not be empty.")
    if len(items) > MAX_ITEMS:
        raise api_error(
            413,
            "too_many_items",
            f"At most {MAX_ITEMS} items per request.",
            {"max_items": MAX_ITEMS, "received": len(items)},
        )
    return items


def query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise api_error(400, "invalid_request", f"{name} must be an integer.") from None
    if not lo <= value <= hi:
        raise api_error(400, "invalid_request", f"{name} must be within [{lo}, {hi}].")
    return value
