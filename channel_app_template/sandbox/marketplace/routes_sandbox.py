"""Marketplace-only routes under ``/_sandbox/``: inspection, reset, settings, faults.

They need no API key, so the marketplace must only listen on loopback (the CLI binds 127.0.0.1
by default and warns otherwise). They are never rate-limited nor hit by faults. Routes mirror
the Omnitron simulator's: ``health/``, ``counts/``, ``faults/`` (+ ``rules/``), ``reset/``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.lenient import loads_or_raw
from channel_app_template.sandbox.common.route_table import Route, route

from . import batches, products
from .context import Market, market_of
from .errors import api_error, not_found
from .http import MAX_PAGE, query_int, read_json

__all__ = ["PREFIX", "ROUTES", "apply_settings", "settings_of"]

PREFIX = "/_sandbox"


def settings_of(market: Market) -> dict[str, Any]:
    return {
        "batch_delay_seconds": market.store.batch_delay,
        **market.limiter.as_dict(),
        "api_keys": len(market.api_keys),
    }


def apply_settings(market: Market, body: dict[str, Any]) -> None:
    if "batch_delay_seconds" in body:
        delay = float(body["batch_delay_seconds"])
        if delay < 0:
            raise ValueError("batch_delay_seconds must be >= 0")
        market.store.batch_delay = delay
    if "rate_limit" in body or "rate_burst" in body:
        rate = body.get("rate_limit")
        burst = body.get("rate_burst")
        market.limiter.configure(
            None if rate is None else float(rate), None if burst is None else int(burst)
        )


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def counts(request: Request) -> Response:
    market = market_of(request)
    market.store.settle()
    return json_response(market.store.counts())


async def product(request: Request) -> Response:
    market = market_of(request)
    market.store.settle()
    found = products.get_by_sku(market.store, request.path_params["sku"])
    if found is None:
        raise not_found("product")
    return json_response(found)


async def batch_list(request: Request) -> Response:
    market = market_of(request)
    market.store.settle()
    rows = batches.listing(
        market.store,
        limit=query_int(request, "limit", 100, 1, MAX_PAGE),
        status=request.query_params.get("status") or None,
    )
    return json_response({"items": rows})


async def batch_detail(request: Request) -> Response:
    """The batch with all item results and the raw items it was sent."""
    market = market_of(request)
    market.store.settle()
    bid = request.path_params["batch_id"]
    found = batches.detail(market.store, bid, offset=0, limit=10**9, status=None)
    if found is None:
        raise not_found("batch")
    with market.store.lock:
        row = market.store.conn.execute(
            "SELECT payload, ready_at FROM batches WHERE id = ?", (bid,)
        ).fetchone()
    found["payload"] = loads_or_raw(row[0])
    found["ready_at"] = market.store.iso(row[1])
    return json_response(found)


async def complete_batches(request: Request) -> Response:
    """Finish every processing batch now, whatever its delay."""
    market = market_of(request)
    return json_response({"completed": market.store.settle(force=True)})


async def reset(request: Request) -> Response:
    """Wipe products and batches, clear faults, restore start-up settings."""
    market = market_of(request)
    market.store.reset()
    market.faults.clear()
    apply_settings(market, dict(market.defaults))
    return json_response(market.store.counts())


async def get_settings(request: Request) -> Response:
    return json_response(settings_of(market_of(request)))


async def set_settings(request: Request) -> Response:
    """``{"batch_delay_seconds", "rate_limit", "rate_burst"}``, any subset."""
    market = market_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise api_error(400, "invalid_request", "Expected an object.")
    apply_settings(market, body)
    return json_response(settings_of(market))


async def get_faults(request: Request) -> Response:
    return json_response(market_of(request).faults.as_dict())


async def set_faults(request: Request) -> Response:
    """``{"latency_ms", "seed", "rules": [...], "replace": bool}`` as in the Omnitron
    simulator; rules are appended unless ``replace`` is true."""
    market = market_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise api_error(400, "invalid_request", "Expected an object.")
    market.faults.update(body)  # ValueError -> 400, nothing changed
    return json_response(market.faults.as_dict())


async def clear_faults(request: Request) -> Response:
    market = market_of(request)
    market.faults.clear()
    return json_response(market.faults.as_dict())


async def add_rule(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise api_error(400, "invalid_request", "Expected an object.")
    return json_response(market_of(request).faults.add(body).as_dict(), 201)


async def delete_rule(request: Request) -> Response:
    if not market_of(request).faults.remove(int(request.path_params["rule_id"])):
        raise not_found("rule")
    return Response(status_code=204)


ROUTES: list[Route] = [
    route(f"{PREFIX}/health/", GET=health),
    route(f"{PREFIX}/counts/", GET=counts),
    route(f"{PREFIX}/products/{{sku:str}}/", GET=product),
    route(f"{PREFIX}/batches/", GET=batch_list),
    route(f"{PREFIX}/batches/complete/", POST=complete_batches),
    route(f"{PREFIX}/batches/{{batch_id:str}}/", GET=batch_detail),
    route(f"{PREFIX}/reset/", POST=reset),
    route(f"{PREFIX}/settings/", GET=get_settings, POST=set_settings),
    route(f"{PREFIX}/faults/", GET=get_faults, POST=set_faults, DELETE=clear_faults),
    route(f"{PREFIX}/faults/rules/", POST=add_rule),
    route(f"{PREFIX}/faults/rules/{{rule_id:int}}/", DELETE=delete_rule),
]
