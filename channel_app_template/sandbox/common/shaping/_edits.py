"""The shaping kinds that edit a decoded JSON answer in place: paging pointers that never move
or move over empty pages, the wrong shape, dropped or odd field values.

Each is a pure function of the answer (and the request), so it can be tested without a server.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._request import RequestContext

if TYPE_CHECKING:
    from ..faults import FaultRule


def rows_of(body: Any) -> list[Any] | None:
    """The rows of a list answer: ``results``, ``items`` or the bare list."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("results", "items"):
            if isinstance(body.get(key), list):
                rows: list[Any] = body[key]
                return rows
    return None


def _safe_int(text: Any, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _repeat(body: Any, context: RequestContext, value: Any) -> Any:
    if not isinstance(body, dict):
        return body
    if "next" in body:
        body["next"] = value if value is not None else context.url()
    if "next_cursor" in body:
        own = context.param("cursor") or body["next_cursor"] or "0"
        body["next_cursor"] = value if value is not None else own
    if "next_offset" in body:
        own_offset = _safe_int(context.param("offset"), 0)
        body["next_offset"] = value if value is not None else own_offset
    return body


def _empty(body: Any, context: RequestContext) -> Any:
    if isinstance(body, list):
        return []
    if not isinstance(body, dict):
        return body
    for key in ("results", "items"):
        if isinstance(body.get(key), list):
            body[key] = []
    if "next" in body:
        body["next"] = context.url(page=str(_safe_int(context.param("page"), 1) + 1))
    if "next_cursor" in body:
        body["next_cursor"] = str(_safe_int(context.param("cursor"), 0) + 1)
    if "next_offset" in body:
        limit = _safe_int(context.param("limit"), _safe_int(body.get("limit"), 100))
        body["next_offset"] = _safe_int(context.param("offset"), 0) + max(limit, 1)
    return body


def _wrong_shape(body: Any, shape: str) -> Any:
    if shape == "list":
        return [body]
    if shape == "object":
        return {"unexpected": body}
    if shape == "string":
        return json.dumps(body)
    if shape == "null":
        return None
    if shape == "number":
        return 42
    rows = rows_of(body)
    if rows is not None:
        rows[:] = [list(row.values()) if isinstance(row, dict) else row for row in rows]
    return body


def _targets(body: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = rows_of(body)
    if rows is None:
        candidates = [(0, body)] if isinstance(body, dict) else []
    else:
        candidates = [(i, r) for i, r in enumerate(rows) if isinstance(r, dict)]
    index, match = params.get("row"), params.get("match")
    out = []
    for position, row in candidates:
        if index is not None and position != index:
            continue
        if match and any(row.get(k) != v for k, v in match.items()):
            continue
        out.append(row)
    return out


def apply(rule: FaultRule, body: Any, context: RequestContext) -> Any:
    """One non-streaming shaping rule applied to a decoded JSON answer."""
    params = rule.params
    if rule.action == "repeat_next":
        return _repeat(body, context, params["value"])
    if rule.action == "empty_page":
        return _empty(body, context)
    if rule.action == "wrong_shape":
        return _wrong_shape(body, params["shape"])
    if rule.action == "drop_field":
        for row in _targets(body, params):
            row.pop(params["field"], None)
    elif rule.action == "set_field":
        for row in _targets(body, params):
            row[params["field"]] = params["value"]
    return body
