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

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.route_table import Route, route

from . import orders, planting
from .context import market_of
from .errors import api_error, not_found
from .http import read_json

__all__ = ["PREFIX", "ROUTES"]

PREFIX = "/_sandbox/orders"


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


async def _body_of(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise api_error(400, "invalid_request", "Expected an object.")
    return body


async def cancel(request: Request) -> Response:
    store = market_of(request).store
    body = await _body_of(request)
    return json_response(orders.cancel_lines(store, request.path_params["order_id"], body), 201)


async def line_update(request: Request) -> Response:
    store = market_of(request).store
    body = await _body_of(request)
    return json_response(orders.update_line(store, request.path_params["order_id"], body), 201)


async def claim(request: Request) -> Response:
    store = market_of(request).store
    body = await _body_of(request)
    return json_response(orders.create_claim(store, request.path_params["order_id"], body), 201)


async def plant(request: Request) -> Response:
    store = market_of(request).store
    return json_response(planting.plant(store, await read_json(request)), 201)


async def plant_event(request: Request) -> Response:
    store = market_of(request).store
    event = planting.plant_event(store, request.path_params["event_id"], await _body_of(request))
    return json_response(event)


async def plant_claim(request: Request) -> Response:
    store = market_of(request).store
    claim = planting.plant_claim(store, request.path_params["claim_id"], await _body_of(request))
    return json_response(claim)


ROUTES: list[Route] = [
    route(f"{PREFIX}/generate/", POST=generate),
    route(f"{PREFIX}/plant/", POST=plant),
    route(f"{PREFIX}/plant/events/{{event_id:str}}/", PATCH=plant_event),
    route(f"{PREFIX}/plant/claims/{{claim_id:str}}/", PATCH=plant_claim),
    route(f"{PREFIX}/counts/", GET=counts),
    route(f"{PREFIX}/{{order_id:str}}/", GET=detail),
    route(f"{PREFIX}/{{order_id:str}}/cancel/", POST=cancel),
    route(f"{PREFIX}/{{order_id:str}}/line-update/", POST=line_update),
    route(f"{PREFIX}/{{order_id:str}}/claims/", POST=claim),
]
