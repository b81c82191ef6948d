"""What Omnitron does with orders beyond generic CRUD: creating and canceling an order, its
wire form with items, and the write rules of customers, addresses, shipping infos,
cancellation requests and order items (the ``before_write`` hooks of their CRUD routes).

Why apart from the routes: these rules are the simulator's model of Omnitron; the route
tables only say which URL reaches them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .context import Sim, catalog_of
from .errors import ApiError
from .resources import SPECS

__all__ = [
    "ADDRESS_HASH_FIELDS",
    "CANCELED",
    "address_hash",
    "bump_order",
    "cancel_order",
    "cancellation_request",
    "create_order",
    "customer_defaults",
    "dedupe_address",
    "order_wire",
    "shipping_info",
]

ADDRESS_HASH_FIELDS = (
    "customer",
    "address_type",
    "retail_store",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "country",
    "city",
    "township",
    "district",
    "title",
    "line",
    "postcode",
    "company_name",
    "tax_office",
    "tax_no",
    "identity_number",
    "e_bill_taxpayer",
)
CANCELED = "100"


# ----------------------------------------------------------------------------- customers
def customer_defaults(
    sim: Sim, cid: int | None, values: dict[str, Any], body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    if existing is None:
        values.setdefault("date_joined", sim.store.clock.now())
    return values


def address_hash(values: dict[str, Any]) -> str:
    """What Omnitron dedupes addresses on (its exact recipe is not published). # [INF]"""
    text = "\x1f".join(
        str(values.get(name) if values.get(name) is not None else "")
        for name in ADDRESS_HASH_FIELDS
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def dedupe_address(
    sim: Sim, cid: int | None, values: dict[str, Any], body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """Duplicate address -> 400 whose ``non_field_errors`` string starts ``hash_data:<hash>``."""
    merged = {**(existing or {}), **values}
    merged.setdefault("address_type", "customer")
    digest = address_hash(merged)
    where = "t.hash_data = ? AND t.channel = ?"
    args: list[Any] = [digest, cid]
    if existing is not None:
        where += " AND t.id != ?"
        args.append(existing["id"])
    if sim.store.count("addresses", where, args):
        raise ApiError(
            400,
            {
                "non_field_errors": f"hash_data:{digest} Address already exists.",
                "code": "address_hash_data_unique",
            },
        )
    values["hash_data"] = digest
    return values


def shipping_info(
    sim: Sim, cid: int | None, values: dict[str, Any], body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    order = sim.store.require("orders", int(values["order"]))
    if order["channel"] != cid:
        raise ApiError(400, {"order": [f'Invalid pk "{order["id"]}" - object does not exist.']})
    values["channel"] = cid
    values.setdefault("order_number", order["number"])
    return values


def cancellation_request(
    sim: Sim, cid: int | None, values: dict[str, Any], body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    item_id = values.get("order_item", (existing or {}).get("order_item"))
    item = sim.store.get("order_items", int(item_id or 0))
    if item is None or item["channel"] != cid:
        raise ApiError(400, {"order_item": [f'Invalid pk "{item_id}" - object does not exist.']})
    values["channel"] = cid
    if values.get("cancellation_type") not in (None, "cancel", "refund"):
        raise ApiError(
            400, {"cancellation_type": [f'"{values["cancellation_type"]}" is not a valid choice.']}
        )
    return values


# ----------------------------------------------------------------------------- orders
def order_wire(sim: Sim, order: dict[str, Any], with_items: bool = False) -> dict[str, Any]:
    """Create/cancel/lookup answers embed ``orderitem_set`` (the new item pks). # [INF]"""
    out = sim.store.wire(SPECS["orders"], order)
    if with_items:
        items = sim.store.select("order_items", 't."order" = ?', [order["id"]])
        out["orderitem_set"] = [sim.store.wire(SPECS["order_items"], i) for i in items]
    return out


def _nested_errors(key: str, exc: ApiError) -> ApiError:
    return ApiError(exc.status, {key: exc.body})


def create_order(sim: Sim, cid: int, body: Any) -> dict[str, Any]:
    """``{"order": {...}, "order_item": [...]}``: validates every pk, one transaction."""
    store = sim.store
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise ApiError(400, {"order": ["This field is required."]})
    raw_items = body.get("order_item")
    if not isinstance(raw_items, list) or not raw_items:
        raise ApiError(400, {"order_item": ["This list may not be empty."]})
    with store.tx():
        try:
            order_values = store.validate(SPECS["orders"], body["order"], partial=False)
        except ApiError as exc:
            raise _nested_errors("order", exc) from None
        for name in ("customer", "shipping_address", "billing_address"):
            if order_values.get(name) is None:
                raise ApiError(400, {"order": {name: ["This field is required."]}})
        order_values["channel"] = cid
        if store.count("orders", "t.channel = ? AND t.number = ?", [cid, order_values["number"]]):
            raise ApiError(
                400,
                {"order": {"number": ["order with this number already exists."]}, "code": "unique"},
            )  # [INF]
        catalog = catalog_of(sim, cid)
        item_errors: list[dict[str, Any]] = []
        item_values: list[dict[str, Any]] = []
        for raw in raw_items:
            try:
                values = store.validate(SPECS["order_items"], raw, partial=False)
            except ApiError as exc:
                item_errors.append(exc.body)
                continue
            item_errors.append({})
            values.setdefault("price_list", catalog["price_list"])
            values.setdefault("stock_list", catalog["stock_list"])
            item_values.append(values)
        if any(item_errors):
            raise ApiError(400, {"order_item": item_errors})
        order_values.setdefault("date_placed", store.clock.now())
        order = store.insert("orders", order_values)
        # one statement for the order's items (a sync creates thousands of orders), read back
        # once below with the order
        rows = [{**values, "order": order["id"], "channel": cid} for values in item_values]
        store.insert_many("order_items", rows)
        order = store.require("orders", order["id"])
    return order_wire(sim, order, with_items=True)


def cancel_order(sim: Sim, cid: int, order_id: int, body: Any) -> dict[str, Any]:
    """Cancel the listed items (status ``100``); the order follows when all are canceled."""
    store = sim.store
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    with store.tx():
        order = store.require("orders", order_id, cid)
        items = {i["id"]: i for i in store.select("order_items", 't."order" = ?', [order_id])}
        wanted = body.get("cancel_items")
        if not isinstance(wanted, list) or not wanted:
            raise ApiError(400, {"cancel_items": ["This list may not be empty."]})
        reasons = body.get("reasons") or {}
        if not isinstance(reasons, dict):
            raise ApiError(400, {"reasons": ["Expected a dictionary of items."]})
        for raw in wanted:
            item = items.get(int(raw)) if str(raw).isdigit() else None
            if item is None:
                raise ApiError(
                    400, {"cancel_items": [f'Invalid pk "{raw}" - object does not exist.']}
                )
            if item["status"] == CANCELED:
                raise ApiError(406, {"error": f"Order item {raw} is already canceled."})  # [INF]
            reason = reasons.get(str(raw), reasons.get(raw))
            if reason is not None and not store.exists("cancellation_reasons", int(reason)):
                raise ApiError(
                    400, {"reasons": [f'Invalid pk "{reason}" - object does not exist.']}
                )
        for raw in wanted:
            store.update("order_items", int(raw), {"status": CANCELED})
        left = store.count("order_items", 't."order" = ? AND t.status != ?', [order_id, CANCELED])
        changes: dict[str, Any] = {"cancel_status": "confirmed"}  # [INF]
        if left == 0:
            changes["status"] = CANCELED
        order = store.update("orders", order_id, changes)
    return order_wire(sim, order, with_items=True)


def bump_order(
    sim: Sim, cid: int | None, values: dict[str, Any], body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """An item change modifies its order too, so it shows in ``orders/updates/``. # [INF]"""
    if existing is not None and values:
        sim.store.update("orders", existing["order"], {})
    return values
