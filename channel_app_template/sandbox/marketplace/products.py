"""Products keyed by the merchant's SKU: upsert (async), stock/price (sync), images (async),
delete (sync, soft and idempotent).

Upsert semantics: required fields are always replaced; optional ones (``description``,
``images``, ``price``, ``stock``) are replaced when present and kept when absent. The same SKU
always keeps the same marketplace ``product_id`` (``MP`` + 8 digits), also across delete and
re-create. A deleted product is kept with ``status: deleted``; updates to it are ``unknown_sku``.
"""

# SQL here is built only from constants in this module; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import loads_or_raw

from .batches import ItemResult, register_kind
from .catalog import (
    Reason,
    reason,
    validate_images,
    validate_price,
    validate_product,
    validate_quantity,
    validate_sku,
)

if TYPE_CHECKING:
    from .store import MarketStore

DDL = (
    "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "sku TEXT UNIQUE NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL, description TEXT, "
    "brand TEXT NOT NULL, category_id INTEGER NOT NULL, barcode TEXT NOT NULL, "
    "attributes TEXT NOT NULL, images TEXT, list_price TEXT, sale_price TEXT, currency TEXT, "
    "stock INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_products_barcode ON products (barcode)",
    "CREATE INDEX IF NOT EXISTS ix_products_status ON products (status, id)",
)
DATA_TABLES = ("products",)
ACTIVE = "active"
DELETED = "deleted"
COLUMNS = (
    "id, sku, status, title, description, brand, category_id, barcode, attributes, images, "
    "list_price, sale_price, currency, stock, created_at, updated_at"
)
CHUNK = 500  # values per IN (...) list


def product_id(row_id: int) -> str:
    return f"MP{row_id:08d}"


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def live_ids(conn: sqlite3.Connection, skus: list[str]) -> dict[str, int]:
    """SKU -> row id of the live (not deleted) products among ``skus``."""
    found: dict[str, int] = {}
    for part in _chunks(skus):
        marks = ", ".join("?" * len(part))
        for row_id, sku in conn.execute(
            f"SELECT id, sku FROM products WHERE status = ? AND sku IN ({marks})", [ACTIVE, *part]
        ):
            found[sku] = row_id
    return found


def wire(store: MarketStore, row: tuple[Any, ...]) -> dict[str, Any]:
    (
        row_id,
        sku,
        status,
        title,
        description,
        brand,
        category_id,
        barcode,
        attributes,
        images,
        list_price,
        sale_price,
        currency,
        stock,
        created,
        updated,
    ) = row
    price = (
        None
        if list_price is None
        else {"list_price": list_price, "sale_price": sale_price, "currency": currency}
    )
    return {
        "product_id": product_id(row_id),
        "sku": sku,
        "status": status,
        "title": title,
        "description": description,
        "brand": brand,
        "category_id": category_id,
        "barcode": barcode,
        "attributes": loads_or_raw(attributes),
        "images": loads_or_raw(images) if images else [],
        "price": price,
        "stock": stock or 0,
        "buyable": status == ACTIVE and price is not None and bool(stock),
        "created_at": store.iso(created),
        "updated_at": store.iso(updated),
    }


def get_by_sku(store: MarketStore, sku: str) -> dict[str, Any] | None:
    with store.lock:
        row = store.conn.execute(f"SELECT {COLUMNS} FROM products WHERE sku = ?", (sku,)).fetchone()
    return None if row is None else wire(store, row)


def listing(
    store: MarketStore, *, skus: list[str], status: str, offset: int, limit: int
) -> dict[str, Any]:
    where, args = "status = ?", [status]
    if skus:
        where += f" AND sku IN ({', '.join('?' * len(skus))})"
        args += skus
    with store.lock:
        total = int(
            store.conn.execute(f"SELECT COUNT(*) FROM products WHERE {where}", args).fetchone()[0]
        )
        rows = store.conn.execute(
            f"SELECT {COLUMNS} FROM products WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
    return {
        "count": total,
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if offset + limit < total else None,
        "items": [wire(store, row) for row in rows],
    }


def _sku_of(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("sku"), str):
        return str(item["sku"])
    return None


def _first_pass(
    items: list[Any], check: Any
) -> tuple[list[ItemResult | None], list[tuple[int, dict[str, Any]]]]:
    """Run ``check(item) -> (clean, reasons)`` and reject repeated SKUs; keep the order."""
    results: list[ItemResult | None] = [None] * len(items)
    valid: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        sku = _sku_of(item)
        if sku is not None and sku in seen:
            results[index] = ItemResult(
                index,
                sku,
                "rejected",
                reasons=(
                    reason(
                        "duplicate_sku_in_request", "sku", "this SKU appears earlier in the request"
                    ),
                ),
            )
            continue
        if sku is not None:
            seen.add(sku)
        clean, reasons = check(item)
        if clean is None:
            results[index] = ItemResult(index, sku, "rejected", reasons=tuple(reasons))
        else:
            valid.append((index, clean))
    return results, valid


def _finish(results: list[ItemResult | None]) -> list[ItemResult]:
    return [r for r in results if r is not None]


# ------------------------------------------------------------------------------- upsert
def apply_upsert(
    store: MarketStore, conn: sqlite3.Connection, items: list[Any]
) -> list[ItemResult]:
    results, valid = _first_pass(items, lambda item: validate_product(store.catalog, item))
    # barcode uniqueness among live products and within the request
    barcodes = sorted({clean["barcode"] for _, clean in valid})
    owner: dict[str, str] = {}
    for part in _chunks(barcodes):
        marks = ", ".join("?" * len(part))
        for barcode, sku in conn.execute(
            f"SELECT barcode, sku FROM products WHERE status = ? AND barcode IN ({marks})",
            [ACTIVE, *part],
        ):
            owner.setdefault(barcode, sku)
    accepted: list[tuple[int, dict[str, Any]]] = []
    for index, clean in valid:
        holder = owner.get(clean["barcode"])
        if holder is not None and holder != clean["sku"]:
            results[index] = ItemResult(
                index,
                clean["sku"],
                "rejected",
                reasons=(
                    reason("duplicate_barcode", "barcode", f"barcode already used by {holder}"),
                ),
            )
            continue
        owner[clean["barcode"]] = clean["sku"]
        accepted.append((index, clean))
    now = store.clock()
    conn.executemany(
        "INSERT INTO products (sku, status, title, description, brand, category_id, barcode, "
        "attributes, images, list_price, sale_price, currency, stock, created_at, updated_at) "
        "VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (sku) DO UPDATE SET status = 'active', title = excluded.title, "
        "description = COALESCE(excluded.description, description), brand = excluded.brand, "
        "category_id = excluded.category_id, barcode = excluded.barcode, "
        "attributes = excluded.attributes, images = COALESCE(excluded.images, images), "
        "list_price = COALESCE(excluded.list_price, list_price), "
        "sale_price = CASE WHEN excluded.list_price IS NULL THEN sale_price "
        "ELSE excluded.sale_price END, "
        "currency = COALESCE(excluded.currency, currency), "
        "stock = COALESCE(excluded.stock, stock), updated_at = excluded.updated_at",
        [
            (
                clean["sku"],
                clean["title"],
                clean["description"],
                clean["brand"],
                clean["category_id"],
                clean["barcode"],
                json.dumps(clean["attributes"], sort_keys=True),
                None if clean["images"] is None else json.dumps(clean["images"]),
                (clean["price"] or {}).get("list_price"),
                (clean["price"] or {}).get("sale_price"),
                (clean["price"] or {}).get("currency"),
                clean["stock"],
                now,
                now,
            )
            for _, clean in accepted
        ],
    )
    ids = live_ids(conn, [clean["sku"] for _, clean in accepted])
    for index, clean in accepted:
        results[index] = ItemResult(
            index, clean["sku"], "accepted", product_id=product_id(ids[clean["sku"]])
        )
    return _finish(results)


# ------------------------------------------------------------------- per-SKU updates
def _apply_updates(
    store: MarketStore,
    conn: sqlite3.Connection,
    items: list[Any],
    check: Any,
    sql: str,
    params: Any,
) -> list[ItemResult]:
    """Validate, look the SKUs up, run ``sql`` with ``params(clean, now, row_id)`` per hit."""

    def with_sku(item: Any) -> tuple[dict[str, Any] | None, list[Reason]]:
        if not isinstance(item, dict):
            return None, [reason("invalid_item", None, "each item must be an object")]
        reasons: list[Reason] = []
        sku = validate_sku(item.get("sku"), reasons)
        clean = check(item, reasons)
        if reasons or clean is None:
            return None, reasons
        return {**clean, "sku": sku}, []

    results, valid = _first_pass(items, with_sku)
    ids = live_ids(conn, [clean["sku"] for _, clean in valid])
    now = store.clock()
    rows = []
    for index, clean in valid:
        row_id = ids.get(clean["sku"])
        if row_id is None:
            results[index] = ItemResult(
                index,
                clean["sku"],
                "rejected",
                reasons=(reason("unknown_sku", "sku", "no live product with this SKU"),),
            )
            continue
        rows.append(params(clean, now, row_id))
        results[index] = ItemResult(index, clean["sku"], "accepted", product_id=product_id(row_id))
    conn.executemany(sql, rows)
    return _finish(results)


def _check_stock(item: dict[str, Any], reasons: list[Reason]) -> dict[str, Any] | None:
    if item.get("quantity") is None:
        reasons.append(reason("missing_field", "quantity", "quantity is required"))
        return None
    quantity = validate_quantity(item["quantity"], "quantity", reasons)
    return None if quantity is None else {"quantity": quantity}


def _check_price(item: dict[str, Any], reasons: list[Reason]) -> dict[str, Any] | None:
    return validate_price(item, "", reasons)


def _check_images(item: dict[str, Any], reasons: list[Reason]) -> dict[str, Any] | None:
    if item.get("images") is None:
        reasons.append(reason("missing_field", "images", "images is required"))
        return None
    images = validate_images(item["images"], "images", reasons)
    return None if images is None else {"images": images}


def update_stock(store: MarketStore, items: list[Any]) -> list[ItemResult]:
    with store.tx() as conn:
        return _apply_updates(
            store,
            conn,
            items,
            _check_stock,
            "UPDATE products SET stock = ?, updated_at = ? WHERE id = ?",
            lambda c, now, row_id: (c["quantity"], now, row_id),
        )


def update_prices(store: MarketStore, items: list[Any]) -> list[ItemResult]:
    with store.tx() as conn:
        return _apply_updates(
            store,
            conn,
            items,
            _check_price,
            "UPDATE products SET list_price = ?, sale_price = ?, currency = ?, updated_at = ? "
            "WHERE id = ?",
            lambda c, now, row_id: (c["list_price"], c["sale_price"], c["currency"], now, row_id),
        )


def apply_images(
    store: MarketStore, conn: sqlite3.Connection, items: list[Any]
) -> list[ItemResult]:
    return _apply_updates(
        store,
        conn,
        items,
        _check_images,
        "UPDATE products SET images = ?, updated_at = ? WHERE id = ?",
        lambda c, now, row_id: (json.dumps(c["images"]), now, row_id),
    )


def parse_product_id(value: str) -> int | None:
    """``MP00000042`` -> 42; anything else -> None."""
    if len(value) == 10 and value.startswith("MP") and value[2:].isdigit():
        return int(value[2:])
    return None


def delete(store: MarketStore, items: list[Any]) -> list[ItemResult]:
    """Soft delete by ``sku`` or by ``product_id`` (one per item). Deleting an already
    deleted product is accepted again (idempotent); an unknown SKU is ``unknown_sku``, an
    unknown product id ``unknown_product``."""
    results: list[ItemResult | None] = [None] * len(items)
    wanted: list[tuple[int, str, str]] = []  # (index, "sku" | "product_id", value)
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results[index] = ItemResult(
                index, None, "rejected", reasons=(reason("invalid_item", None, "not an object"),)
            )
            continue
        reasons: list[Reason] = []
        if item.get("product_id") is not None and item.get("sku") is None:
            pid = item["product_id"]
            if not isinstance(pid, str):
                reasons.append(reason("invalid_type", "product_id", "product_id is a string"))
            key = ("product_id", str(pid))
        else:
            key = ("sku", str(validate_sku(item.get("sku"), reasons)))
        if reasons:
            results[index] = ItemResult(index, _sku_of(item), "rejected", reasons=tuple(reasons))
            continue
        if key in seen:
            results[index] = ItemResult(
                index,
                _sku_of(item),
                "rejected",
                reasons=(
                    reason("duplicate_sku_in_request", key[0], "this product appears earlier"),
                ),
            )
            continue
        seen.add(key)
        wanted.append((index, *key))
    with store.tx() as conn:
        by_sku: dict[str, tuple[int, str, str]] = {}
        by_id: dict[int, tuple[int, str, str]] = {}
        skus = [value for _, kind, value in wanted if kind == "sku"]
        ids = [
            pid
            for _, kind, value in wanted
            if kind == "product_id" and (pid := parse_product_id(value)) is not None
        ]
        for part in _chunks(skus):
            marks = ", ".join("?" * len(part))
            for row_id, sku, status in conn.execute(
                f"SELECT id, sku, status FROM products WHERE sku IN ({marks})", part
            ):
                by_sku[sku] = (row_id, sku, status)
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for row_id, sku, status in conn.execute(
                f"SELECT id, sku, status FROM products WHERE id IN ({marks})", part
            ):
                by_id[row_id] = (row_id, sku, status)
        now = store.clock()
        live = []
        for index, kind, value in wanted:
            if kind == "sku":
                hit = by_sku.get(value)
                missing = reason("unknown_sku", "sku", "no product with this SKU")
            else:
                row = parse_product_id(value)
                hit = None if row is None else by_id.get(row)
                missing = reason("unknown_product", "product_id", "no product with this id")
            if hit is None:
                results[index] = ItemResult(
                    index,
                    value if kind == "sku" else None,
                    "rejected",
                    product_id=None if kind == "sku" else value,
                    reasons=(missing,),
                )
                continue
            if hit[2] == ACTIVE:
                live.append((now, hit[0]))
            results[index] = ItemResult(index, hit[1], "accepted", product_id=product_id(hit[0]))
        conn.executemany(
            "UPDATE products SET status = 'deleted', updated_at = ? WHERE id = ?", live
        )
    return _finish(results)


register_kind("product_upsert", apply_upsert)
register_kind("image_update", apply_images)
