"""Merchant- and ERP-side edits: the writes a merchant's ERP makes to Omnitron, on the normal
API, so tests and outside clients change data the way production does (never in SQLite).

Every write stamps the object's ``modified_date`` (Django's ``auto_now``, on every save, even
when no value changed # [INF]), which is what puts it into the channel's ``updates/`` views.

=========================================  ==========================  ========================
path                                       methods                     source
=========================================  ==========================  ========================
``/api/v1/products/``, ``{pk}/``            GET POST / GET PATCH PUT    [SDK] ProductEndpoint
                                           DELETE
``/api/v1/product_price/``, ``{pk}/``       GET POST / GET PATCH PUT    [DOC] OpenAPI (list,
                                           DELETE                      POST, PATCH # [INF])
``/api/v1/product_stock/``, ``{pk}/``       same                        # [INF] as product_price
``/api/i1/product_stock/``                  GET, POST upsert            [DOC] integration docs
``/api/i1/product_price/``                  GET, POST upsert            # [INF] path, as stock
``/api/i1/product_image/``                  POST upsert (replace)       [DOC] body; # [INF] path
=========================================  ==========================  ========================

The ``i1`` upserts find the product by ``product_sku`` and the row by (product, ``stock_list``
| ``price_list``): an existing row is updated, else one is created. The docs show one object per
request; a list of up to ``MAX_UPSERT`` objects is also taken and applied all or nothing
(DRF list-serializer errors: one error object per item) # [INF]. The image upsert replaces a
product's images: images of ``images`` are updated or created (``url`` -> ``image``,
``order``), the product's other images are deleted [DOC].
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from .context import guard
from .http import json_response, list_response, read_json
from .merchant import MAX_IMAGES, MAX_UPSERT, replace_images, upsert_items, upsert_many, with_sku
from .resources import SPECS
from .route_table import Crud, Entry, Route, route

__all__ = ["I1", "MAX_IMAGES", "MAX_UPSERT", "ROUTES"]

I1 = "/api/i1"
EDITABLE = ("list", "retrieve", "create", "update", "replace", "delete")


async def listing(request: Request, *, table: str) -> Response:
    sim = guard(request)
    return list_response(request, sim.store, SPECS[table], serializer=with_sku(sim, table))


async def upsert(request: Request, *, table: str, list_key: str) -> Response:
    sim = guard(request)
    items, many = upsert_items(await read_json(request))
    serialize = with_sku(sim, table)
    results = upsert_many(sim, table, list_key, items, many)
    if many:
        return json_response([serialize(row) for row, _ in results])
    row, created = results[0]
    return json_response(serialize(row), 201 if created else 200)


def upsert_route(name: str, table: str, list_key: str) -> Route:
    """``GET``/``POST {I1}/{name}/``: list with ``product_sku``; upsert by (sku, list)."""
    return route(
        f"{I1}/{name}/",
        GET=partial(listing, table=table),
        POST=partial(upsert, table=table, list_key=list_key),
    )


async def image_upsert(request: Request) -> Response:
    sim = guard(request)
    return json_response(replace_images(sim, await read_json(request)))


ROUTES: list[Entry] = [
    Crud("product_price", "product_prices", EDITABLE, scoped=False),
    Crud("product_stock", "product_stocks", EDITABLE, scoped=False),
    upsert_route("product_stock", "product_stocks", "stock_list"),
    upsert_route("product_price", "product_prices", "price_list"),
    route(f"{I1}/product_image/", POST=image_upsert),
]
