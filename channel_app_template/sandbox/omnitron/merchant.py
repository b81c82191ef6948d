"""What the merchant's ERP writes through the ``i1`` API: upserts of prices and stocks by
(``product_sku``, list), and the replacement of a product's images (the routes and the
documented rules are in :mod:`.routes_merchant`).

Why apart from the routes: these are the simulator's model of Omnitron's upserts; the route
table only says which URL reaches them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Sim
from .errors import ApiError
from .resources import SPECS

__all__ = [
    "MAX_IMAGES",
    "MAX_UPSERT",
    "image_values",
    "product_by_sku",
    "replace_images",
    "upsert_items",
    "upsert_many",
    "upsert_one",
    "with_sku",
]

MAX_UPSERT = 1000
MAX_IMAGES = 100


def product_by_sku(sim: Sim, sku: Any) -> dict[str, Any]:
    if not isinstance(sku, str) or not sku:
        raise ApiError(400, {"product_sku": ["This field is required."]})
    rows = sim.store.select("products", "t.sku = ?", [sku], limit=1)
    if not rows:
        raise ApiError(400, {"product_sku": [f'Product with sku "{sku}" does not exist.']})
    return rows[0]


def upsert_items(body: Any) -> tuple[list[Any], bool]:
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


def with_sku(sim: Sim, table: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    spec = SPECS[table]

    def serialize(row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(spec, row)
        product = sim.store.get("products", int(row["product"])) if row.get("product") else None
        out["product_sku"] = None if product is None else product["sku"]
        return out

    return serialize


def upsert_one(sim: Sim, table: str, list_key: str, raw: Any) -> tuple[dict[str, Any], bool]:
    """(the row, whether it was created) for one object; the caller holds the transaction."""
    spec = SPECS[table]
    if not isinstance(raw, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    product = product_by_sku(sim, raw.get("product_sku"))
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


def upsert_many(
    sim: Sim, table: str, list_key: str, items: list[Any], many: bool
) -> list[tuple[dict[str, Any], bool]]:
    """Every object or none: a list body's errors come back one per item."""
    results: list[tuple[dict[str, Any], bool]] = []
    errors: list[Any] = []
    with sim.store.tx():
        for raw in items:
            try:
                results.append(upsert_one(sim, table, list_key, raw))
                errors.append({})
            except ApiError as exc:
                if not many:
                    raise
                errors.append(exc.body)
        if any(errors):
            raise ApiError(400, errors)
    return results


def image_values(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApiError(400, {"images": [f"Item {index} is not an object."]})
    url = raw.get("url")
    if not isinstance(url, str) or not 0 < len(url) <= 2048:
        raise ApiError(400, {"images": [f"Item {index}: url is a string of 1-2048 characters."]})
    order = raw.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10_000:
        raise ApiError(400, {"images": [f"Item {index}: order is an integer in [0, 10000]."]})
    return {"image": url, "order": order}


def replace_images(sim: Sim, body: Any) -> list[dict[str, Any]]:
    """``{"product_sku", "images": [{"url", "order"?, "image_type"?}]}``: the product's images
    become exactly these (matched by URL); answers the product's images."""
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    images = body.get("images")
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise ApiError(400, {"images": [f"A list of at most {MAX_IMAGES} images is required."]})
    wanted = [image_values(raw, index) for index, raw in enumerate(images)]
    spec = SPECS["product_images"]
    store = sim.store
    with store.tx():
        product = product_by_sku(sim, body.get("product_sku"))
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
    return [store.wire(spec, row) for row in rows]
