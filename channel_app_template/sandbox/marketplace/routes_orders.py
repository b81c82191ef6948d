"""``/api/v1/orders``, ``/api/v1/order-events``, ``/api/v1/claims``: the seller's order API.

===================================  ======  =================================================
path                                 method  answer
===================================  ======  =================================================
``/api/v1/orders``                   GET     page of orders, oldest first (``acknowledged``
                                             false|true|any, default false; ``status``;
                                             ``number`` repeated; ``cursor``; ``limit``)
``/api/v1/orders/{order_id}``        GET     one order / 404
``/api/v1/orders/acknowledge``       POST    per-item results; idempotent
``/api/v1/orders/status``            PUT     per-item results (absolute values; synchronous)
``/api/v1/order-events``             GET     page of events (``type`` line_update|cancellation,
                                             ``acknowledged``, ``cursor``, ``limit``)
``/api/v1/order-events/acknowledge`` POST    per-item results; idempotent
``/api/v1/claims``                   GET     page of claims (``acknowledged``, ``status``...)
``/api/v1/claims/acknowledge``       POST    per-item results; idempotent
``/api/v1/claims/{claim_id}``        GET     one claim / 404
``/api/v1/claims/{claim_id}``        PUT     decide ``{"decision": "approve"|"reject"}``
===================================  ======  =================================================

Pages are keyset-paged: ``next_cursor`` is passed back as ``cursor`` and stays valid while
items are acknowledged (offsets would skip items as the unacknowledged set shrinks).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.route_table import Route

from . import orders
from .context import guard
from .errors import api_error, not_found
from .http import MAX_PAGE, query_int, read_items, read_json
from .route_table import API, api_route

__all__ = ["DEFAULT_LIMIT", "ROUTES", "acknowledged_param", "cursor_param", "limit_param"]

DEFAULT_LIMIT = 100


def acknowledged_param(request: Request) -> bool | None:
    raw = request.query_params.get("acknowledged", "false").lower()
    if raw in ("false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("any", "all"):
        return None
    raise api_error(400, "invalid_request", "acknowledged must be true, false or any.")


def cursor_param(request: Request) -> int:
    raw = request.query_params.get("cursor") or "0"
    if not raw.isdigit() or len(raw) > 12:
        raise api_error(400, "invalid_cursor", "cursor must be a value from next_cursor.")
    return int(raw)


def limit_param(request: Request) -> int:
    return query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_PAGE)


async def list_orders(request: Request) -> Response:
    market = guard(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in orders.LINE_STATUSES:
        raise api_error(400, "invalid_request", f"status must be one of {orders.LINE_STATUSES}")
    numbers = request.query_params.getlist("number")
    if len(numbers) > MAX_PAGE:
        raise api_error(400, "invalid_request", f"At most {MAX_PAGE} number filters.")
    body = orders.list_orders(
        market.store,
        acknowledged=acknowledged_param(request),
        status=status,
        numbers=numbers,
        after=cursor_param(request),
        limit=limit_param(request),
    )
    return json_response(body)


async def get_order(request: Request) -> Response:
    market = guard(request)
    found = orders.get_order(market.store, request.path_params["order_id"])
    if found is None:
        raise not_found("order")
    return json_response(found)


async def acknowledge_orders(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(orders.acknowledge(market.store, "orders", "MO", items))


async def update_statuses(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(orders.update_statuses(market.store, items))


async def list_events(request: Request) -> Response:
    market = guard(request)
    kind = request.query_params.get("type") or None
    if kind is not None and kind not in orders.EVENT_TYPES:
        raise api_error(400, "invalid_request", f"type must be one of {orders.EVENT_TYPES}.")
    body = orders.list_events(
        market.store,
        kind=kind,
        acknowledged=acknowledged_param(request),
        after=cursor_param(request),
        limit=limit_param(request),
    )
    return json_response(body)


async def acknowledge_events(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(orders.acknowledge(market.store, "order_events", "EV", items))


async def list_claims(request: Request) -> Response:
    market = guard(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in (
        orders.CLAIM_WAITING,
        orders.CLAIM_APPROVED,
        orders.CLAIM_REJECTED,
    ):
        raise api_error(400, "invalid_request", "status must be waiting, approved, rejected.")
    body = orders.list_claims(
        market.store,
        acknowledged=acknowledged_param(request),
        status=status,
        after=cursor_param(request),
        limit=limit_param(request),
    )
    return json_response(body)


async def acknowledge_claims(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(orders.acknowledge(market.store, "claims", "CL", items))


async def get_claim(request: Request) -> Response:
    market = guard(request)
    found = orders.get_claim(market.store, request.path_params["claim_id"])
    if found is None:
        raise not_found("claim")
    return json_response(found)


async def decide_claim(request: Request) -> Response:
    market = guard(request)
    body = await read_json(request)
    return json_response(orders.decide_claim(market.store, request.path_params["claim_id"], body))


ROUTES: list[Route] = [
    api_route(f"{API}/orders", GET=list_orders),
    api_route(f"{API}/orders/acknowledge", POST=acknowledge_orders),
    api_route(f"{API}/orders/status", PUT=update_statuses),
    api_route(f"{API}/orders/{{order_id:str}}", GET=get_order),
    api_route(f"{API}/order-events", GET=list_events),
    api_route(f"{API}/order-events/acknowledge", POST=acknowledge_events),
    api_route(f"{API}/claims", GET=list_claims),
    api_route(f"{API}/claims/acknowledge", POST=acknowledge_claims),
    api_route(f"{API}/claims/{{claim_id:str}}", GET=get_claim, PUT=decide_claim),
]
