"""``/api/v1/products`` and ``/api/v1/batches``: bulk writes by SKU and batch results.

=================================  ======  ==========================================
path                               method  answer
=================================  ======  ==========================================
``/api/v1/products``               POST    202 batch (``product_upsert``)
``/api/v1/products``               GET     200 page of products (``sku``, ``status``)
``/api/v1/products/{sku}``         GET     200 product (also when deleted) / 404
``/api/v1/products/stock``         PUT     200 per-item results (synchronous)
``/api/v1/products/prices``        PUT     200 per-item results (synchronous)
``/api/v1/products/images``        PUT     202 batch (``image_update``)
``/api/v1/products/delete``        POST    200 per-item results (by sku or product_id)
``/api/v1/batches``                GET     200 recent batches (``status``, ``limit``)
``/api/v1/batches/{batch_id}``     GET     200 batch + a page of item results / 404
=================================  ======  ==========================================
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.route_table import Route

from . import batches, products
from .batches import ItemResult
from .context import guard
from .errors import api_error, not_found
from .http import MAX_PAGE, query_int, read_items
from .route_table import API, api_route

__all__ = ["IDEMPOTENCY_HEADER", "ROUTES", "results_body", "start_batch"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


def results_body(results: list[ItemResult]) -> dict[str, Any]:
    accepted = sum(1 for r in results if r.status == "accepted")
    return {
        "accepted_count": accepted,
        "rejected_count": len(results) - accepted,
        "items": [r.wire() for r in results],
    }


async def start_batch(request: Request, kind: str) -> Response:
    """202 with the batch summary; an ``Idempotency-Key`` header makes a repeat return the
    first batch (with ``Idempotent-Replayed: true``) instead of queueing the items again."""
    market = guard(request)
    items = await read_items(request)
    key = request.headers.get(IDEMPOTENCY_HEADER) or None
    if key is not None and len(key) > 255:
        raise api_error(400, "invalid_request", f"{IDEMPOTENCY_HEADER} is limited to 255 chars.")
    summary, replayed = batches.create(market.store, kind, items, key)
    headers = {"Location": f"{API}/batches/{summary['batch_id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(summary, 202, headers)


async def upsert(request: Request) -> Response:
    return await start_batch(request, "product_upsert")


async def list_products(request: Request) -> Response:
    market = guard(request)
    status = request.query_params.get("status", products.ACTIVE)
    if status not in (products.ACTIVE, products.DELETED):
        raise api_error(400, "invalid_request", "status must be active or deleted.")
    skus = request.query_params.getlist("sku")
    if len(skus) > MAX_PAGE:
        raise api_error(400, "invalid_request", f"At most {MAX_PAGE} sku filters.")
    body = products.listing(
        market.store,
        skus=skus,
        status=status,
        offset=query_int(request, "offset", 0, 0, 10**9),
        limit=query_int(request, "limit", 100, 1, MAX_PAGE),
    )
    return json_response(body)


async def get_product(request: Request) -> Response:
    market = guard(request)
    found = products.get_by_sku(market.store, request.path_params["sku"])
    if found is None:
        raise not_found("product")
    return json_response(found)


async def stock(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(results_body(products.update_stock(market.store, items)))


async def prices(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(results_body(products.update_prices(market.store, items)))


async def images(request: Request) -> Response:
    return await start_batch(request, "image_update")


async def delete(request: Request) -> Response:
    market = guard(request)
    items = await read_items(request)
    return json_response(results_body(products.delete(market.store, items)))


async def list_batches(request: Request) -> Response:
    market = guard(request)
    status = request.query_params.get("status") or None
    rows = batches.listing(
        market.store, limit=query_int(request, "limit", 100, 1, MAX_PAGE), status=status
    )
    return json_response({"items": rows})


async def get_batch(request: Request) -> Response:
    market = guard(request)
    item_status = request.query_params.get("item_status") or None
    if item_status not in (None, "accepted", "rejected"):
        raise api_error(400, "invalid_request", "item_status must be accepted or rejected.")
    found = batches.detail(
        market.store,
        request.path_params["batch_id"],
        offset=query_int(request, "offset", 0, 0, 10**9),
        limit=query_int(request, "limit", MAX_PAGE, 1, MAX_PAGE),
        status=item_status,
    )
    if found is None:
        raise not_found("batch")
    return json_response(found)


ROUTES: list[Route] = [
    api_route(f"{API}/products", POST=upsert, GET=list_products),
    api_route(f"{API}/products/stock", PUT=stock),
    api_route(f"{API}/products/prices", PUT=prices),
    api_route(f"{API}/products/images", PUT=images),
    api_route(f"{API}/products/delete", POST=delete),
    api_route(f"{API}/products/{{sku:str}}", GET=get_product),
    api_route(f"{API}/batches", GET=list_batches),
    api_route(f"{API}/batches/{{batch_id:str}}", GET=get_batch),
]
