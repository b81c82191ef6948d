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

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.routing import mount

from . import orders, planting
from .context import guard, market_of
from .errors import api_error, not_found
from .http import MAX_PAGE, query_int, read_items, read_json
from .routes_catalog import API, route

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


def register(app: FastAPI) -> None:
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
        return json_response(
            orders.decide_claim(market.store, request.path_params["claim_id"], body)
        )

    route(app, f"{API}/orders", GET=list_orders)
    route(app, f"{API}/orders/acknowledge", POST=acknowledge_orders)
    route(app, f"{API}/orders/status", PUT=update_statuses)
    route(app, f"{API}/orders/{{order_id:str}}", GET=get_order)
    route(app, f"{API}/order-events", GET=list_events)
    route(app, f"{API}/order-events/acknowledge", POST=acknowledge_events)
    route(app, f"{API}/claims", GET=list_claims)
    route(app, f"{API}/claims/acknowledge", POST=acknowledge_claims)
    route(app, f"{API}/claims/{{claim_id:str}}", GET=get_claim, PUT=decide_claim)


def register_sandbox(app: FastAPI) -> None:
    """``/_sandbox/orders/...``: make orders and marketplace-side changes, inspect them.

    * ``POST generate/`` ``{count, items_per_order: n | [min, max], max_quantity, seed,
      number_prefix, skus, bad: {unknown_product, unknown_cargo, unresolvable_address,
      malformed: fraction}}`` -> ``{created, first_order_id, last_order_id, bad: {kind:
      [numbers]}}`` (409 ``no_products`` when no live product exists);
    * ``GET counts/``: orders, acknowledged, by status and kind, units, events, claims;
    * ``GET <order_id>/``: the stored order (``raw`` view; ``served`` is what the API lists);
    * ``POST <order_id>/cancel/`` ``{lines?: [{line_id, quantity?, reason_code?}],
      reason_code?}`` -> the ``cancellation`` event;
    * ``POST <order_id>/line-update/`` ``{line_id?, status?, tracking_number?,
      invoice_number?, invoice_date?, cargo_code?}`` -> ``{items: [line_update events]}``;
    * ``POST <order_id>/claims/`` ``{line_id, quantity?, type: cancel|return, reason_code?,
      description?}`` -> the claim (status ``waiting``);
    * ``POST plant/`` ``{kind?, order?: {column: raw}, lines?: [{column: raw}], skus?, seed?,
      number_prefix?}`` -> ``{order_id, number, kind, served}``: one order with bad values
      stored as given (see :mod:`.planting`);
    * ``PATCH plant/events/<event_id>/`` ``{values: {field: raw}, replace?}`` and
      ``PATCH plant/claims/<claim_id>/`` ``{values: {column: raw}}`` -> the event or claim
      as listed: malformed events and claims, stored as given.
    """
    prefix = "/_sandbox/orders"

    async def generate(request: Request) -> Response:
        market = market_of(request)
        spec = orders.GenerateSpec.parse(await read_json(request))
        return json_response(orders.generate(market.store, spec), 201)

    async def counts(request: Request) -> Response:
        return json_response(orders.counts(market_of(request).store))

    async def detail(request: Request) -> Response:
        store = market_of(request).store
        oid = request.path_params["order_id"]
        raw = orders.get_order(store, oid, raw=True)
        if raw is None:
            raise not_found("order")
        return json_response({"raw": raw, "served": orders.get_order(store, oid)})

    async def body_of(request: Request) -> dict[str, Any]:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise api_error(400, "invalid_request", "Expected an object.")
        return body

    async def cancel(request: Request) -> Response:
        store = market_of(request).store
        body = await body_of(request)
        return json_response(orders.cancel_lines(store, request.path_params["order_id"], body), 201)

    async def line_update(request: Request) -> Response:
        store = market_of(request).store
        body = await body_of(request)
        return json_response(orders.update_line(store, request.path_params["order_id"], body), 201)

    async def claim(request: Request) -> Response:
        store = market_of(request).store
        body = await body_of(request)
        return json_response(orders.create_claim(store, request.path_params["order_id"], body), 201)

    async def plant(request: Request) -> Response:
        store = market_of(request).store
        return json_response(planting.plant(store, await read_json(request)), 201)

    async def plant_event(request: Request) -> Response:
        store = market_of(request).store
        event = planting.plant_event(store, request.path_params["event_id"], await body_of(request))
        return json_response(event)

    async def plant_claim(request: Request) -> Response:
        store = market_of(request).store
        claim = planting.plant_claim(store, request.path_params["claim_id"], await body_of(request))
        return json_response(claim)

    mount(app, f"{prefix}/generate/", POST=generate)
    mount(app, f"{prefix}/plant/", POST=plant)
    mount(app, f"{prefix}/plant/events/{{event_id:str}}/", PATCH=plant_event)
    mount(app, f"{prefix}/plant/claims/{{claim_id:str}}/", PATCH=plant_claim)
    mount(app, f"{prefix}/counts/", GET=counts)
    mount(app, f"{prefix}/{{order_id:str}}/", GET=detail)
    mount(app, f"{prefix}/{{order_id:str}}/cancel/", POST=cancel)
    mount(app, f"{prefix}/{{order_id:str}}/line-update/", POST=line_update)
    mount(app, f"{prefix}/{{order_id:str}}/claims/", POST=claim)
