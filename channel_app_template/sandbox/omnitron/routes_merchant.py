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

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .context import Sim, guard
from .crud import add_crud, mount
from .errors import ApiError
from .http import json_response, list_response, read_json
from .resources import SPECS

__all__ = ["I1", "MAX_IMAGES", "MAX_UPSERT", "register"]

I1 = "/api/i1"
MAX_UPSERT = 1000
MAX_IMAGES = 100
EDITABLE = ("list", "retrieve", "create", "update", "replace", "delete")


def register(app: FastAPI) -> None:
    add_crud(app, "product_price", "product_prices", EDITABLE, scoped=False)
    add_crud(app, "product_stock", "product_stocks", EDITABLE, scoped=False)
    _upsert_route(app, "product_stock", "product_stocks", "stock_list")
    _upsert_route(app, "product_price", "product_prices", "price_list")
    mount(app, f"{I1}/product_image/", POST=_image_upsert)


def _product_by_sku(sim: Sim, sku: Any) -> dict[str, Any]:
    if not isinstance(sku, str) or not sku:
        raise ApiError(400, {"product_sku": ["This field is required."]})
    rows = sim.store.select("products", "t.sku = ?", [sku], limit=1)
    if not rows:
        raise ApiError(400, {"product_sku": [f'Product with sku "{sku}" does not exist.']})
    return rows[0]


def _items(body: Any) -> tuple[list[Any], bool]:
    """(the objects, whether the body was a list)."""
    if isinstance(body, list):
        if not body:
            raise ApiError(400, {"non_field_errors": ["This list may not be empty."]})
        if len(body) > MAX_UPSERT:
            raise ApiError(
                400, {"non_field_errors": [f"Ensure this list has at most {MAX_UPSERT} items."]}
            )
        return body, True
    return [body], False


def _with_sku(sim: Sim, table: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    spec = SPECS[table]

    def serialize(row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(spec, row)
        product = sim.store.get("products", int(row["product"])) if row.get("product") else None
        out["product_sku"] = None if product is None else product["sku"]
        return out

    return serialize


def _upsert_route(app: FastAPI, name: str, table: str, list_key: str) -> None:
    """``GET``/``POST {I1}/{name}/``: list with ``product_sku``; upsert by (sku, list)."""
    spec = SPECS[table]

    def upsert_one(sim: Sim, raw: Any) -> tuple[dict[str, Any], bool]:
        if not isinstance(raw, dict):
            raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        product = _product_by_sku(sim, raw.get("product_sku"))
        fields = {k: v for k, v in raw.items() if k not in ("product_sku", "product")}
        list_id = fields.get(list_key)
        if list_id is None:
            raise ApiError(400, {list_key: ["This field is required."]})
        found = sim.store.select(
            table, f"t.product = ? AND t.{list_key} = ?", [product["id"], list_id], limit=1
        )
        values = sim.store.validate(spec, {**fields, "product": product["id"]}, partial=bool(found))
        if found:
            return sim.store.update(table, found[0]["id"], values), False
        return sim.store.insert(table, values), True

    async def listing(request: Request) -> Response:
        sim = guard(request)
        return list_response(request, sim.store, spec, serializer=_with_sku(sim, table))

    async def upsert(request: Request) -> Response:
        sim = guard(request)
        items, many = _items(await read_json(request))
        serialize = _with_sku(sim, table)
        results: list[tuple[dict[str, Any], bool]] = []
        errors: list[Any] = []
        with sim.store.tx():
            for raw in items:
                try:
                    results.append(upsert_one(sim, raw))
                    errors.append({})
                except ApiError as exc:
                    if not many:
                        raise
                    errors.append(exc.body)
            if any(errors):
                raise ApiError(400, errors)
        if many:
            return json_response([serialize(row) for row, _ in results])
        row, created = results[0]
        return json_response(serialize(row), 201 if created else 200)

    mount(app, f"{I1}/{name}/", GET=listing, POST=upsert)


def _image_values(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApiError(400, {"images": [f"Item {index} is not an object."]})
    url = raw.get("url")
    if not isinstance(url, str) or not 0 < len(url) <= 2048:
        raise ApiError(400, {"images": [f"Item {index}: url is a string of 1-2048 characters."]})
    order = raw.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10_000:
        raise ApiError(400, {"images": [f"Item {index}: order is an integer in [0, 10000]."]})
    return {"image": url, "order": order}


async def _image_upsert(request: Request) -> Response:
    """``{"product_sku", "images": [{"url", "order"?, "image_type"?}]}``: the product's images
    become exactly these (matched by URL); answers the product's images."""
    sim = guard(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    images = body.get("images")
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise ApiError(400, {"images": [f"A list of at most {MAX_IMAGES} images is required."]})
    wanted = [_image_values(raw, index) for index, raw in enumerate(images)]
    spec = SPECS["product_images"]
    store = sim.store
    with store.tx():
        product = _product_by_sku(sim, body.get("product_sku"))
        current = {
            r["image"]: r for r in store.select("product_images", "t.product = ?", [product["id"]])
        }
        keep: set[int] = set()
        for values in wanted:
            row = current.get(values["image"])
            if row is None:
                row = store.insert("product_images", {**values, "product": product["id"]})
            elif row["order"] != values["order"]:
                row = store.update("product_images", row["id"], {"order": values["order"]})
            keep.add(int(row["id"]))
        for row in current.values():
            if int(row["id"]) not in keep:
                store.delete("product_images", row["id"])
        rows = store.select("product_images", "t.product = ?", [product["id"]], 't."order", t.id')
    return json_response([store.wire(spec, row) for row in rows])
