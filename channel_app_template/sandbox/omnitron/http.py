"""Request/response helpers shared by the route modules: JSON in/out and the list pipeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import dumps, json_response

from .errors import ApiError
from .filters import build_order, build_where
from .pagination import envelope, parse_page, resolve_last
from .resources import Spec
from .store import Store

__all__ = [
    "MAX_BODY_BYTES",
    "PageSerializer",
    "Serializer",
    "dumps",
    "json_response",
    "list_response",
    "path_int",
    "read_json",
]

Serializer = Callable[[dict[str, Any]], dict[str, Any]]
PageSerializer = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _each(serializer: Serializer) -> PageSerializer:
    return lambda records: [serializer(record) for record in records]


MAX_BODY_BYTES = 32 * 1024 * 1024  # a batch commit of 100k objects fits well inside


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """Parse the body; malformed JSON is DRF's 400 ``{"detail": "JSON parse error ..."}``,
    a body over ``limit`` bytes a 413; ``NaN``/``Infinity`` are not JSON and are refused."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, {"detail": f"Request body is limited to {limit} bytes."})
    raw = await request.body()
    if len(raw) > limit:
        raise ApiError(413, {"detail": f"Request body is limited to {limit} bytes."})
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_not_json)
    except ValueError as exc:
        raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def path_int(request: Request, name: str) -> int:
    value = request.path_params[name]
    return int(value)


def list_response(
    request: Request,
    store: Store,
    spec: Spec,
    *,
    base: list[tuple[str, list[Any]]] | None = None,
    joins: str = "",
    skip: frozenset[str] = frozenset(),
    serializer: Serializer | None = None,
    default_sort: str | None = None,
    page_serializer: PageSerializer | None = None,
) -> Response:
    """Filter, count, page and serialize one list query; ``base`` adds route-specific clauses.
    ``page_serializer`` serializes a whole page at once (one look-up for all its rows)."""
    if page_serializer is None and serializer is not None:
        page_serializer = _each(serializer)
    items = request.query_params.multi_items()
    params = dict(items)
    where = build_where(spec, items, skip=skip)
    for clause, args in base or []:
        where.add(clause, *args)
    page = parse_page(params)
    order = build_order(spec, params.get("sort") or default_sort)
    sql = where.sql()
    base_url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    headers = {"X-Sandbox-Ignored-Filters": ",".join(where.ignored)} if where.ignored else None
    rows: list[str] = []
    records: list[dict[str, Any]] = []
    with store.lock:
        count = store.count(spec.table, sql, where.args, joins=joins)
        page = resolve_last(page, count)
        if page_serializer is None:
            rows = store.select_json(
                spec.table, sql, where.args, order, page.limit, page.offset, joins=joins
            )
        else:
            records = store.select(
                spec.table, sql, where.args, order, page.limit, page.offset, joins=joins
            )
    if page_serializer is None:
        head = envelope([], count, page, base_url, items)
        raw = (
            f'{{"count":{count},"next":{json.dumps(head["next"])},'
            f'"previous":{json.dumps(head["previous"])},"results":[{",".join(rows)}]}}'
        )
        return Response(raw.encode(), headers=headers, media_type="application/json")
    body = envelope(page_serializer(records), count, page, base_url, items)
    return json_response(body, headers=headers)
