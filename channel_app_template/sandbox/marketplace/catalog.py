"""Categories, attributes and the product validation rules, all deterministic.

Every rule yields a machine-readable reason ``{"code", "field", "message"}``; an item collects
all of its reasons, not just the first. The rules, by code:

========================================  ======================================================
``invalid_item``                          the item is not a JSON object
``missing_field``                         a required field is absent or empty
``invalid_type``                          a field has the wrong JSON type
``invalid_sku``                           SKU longer than 64 or not ``[A-Za-z0-9._-]``
``duplicate_sku_in_request``              the same SKU appears earlier in the same request
``title_too_long``                        title longer than 100 characters
``description_too_long``                  description longer than 5000 characters
``brand_too_long``                        brand longer than 50 characters
``unknown_category``                      no category with that id
``category_not_leaf``                     products go only into leaf categories
``invalid_barcode``                       not 8, 12, 13 or 14 digits (GTIN lengths; the check
                                          digit is not verified)
``duplicate_barcode``                     another live SKU already uses the barcode
``missing_required_attribute``            the category requires this attribute
``unknown_attribute``                     the category has no such attribute
``attribute_value_not_allowed``           not one of the attribute's value codes
``attribute_value_too_long``              free text longer than the attribute allows
``too_many_images``                       more than 8 images
``invalid_image_url``                     not an absolute http(s) URL
``invalid_price``                         not a decimal with at most 2 places
``non_positive_price``                    list or sale price <= 0
``sale_price_above_list_price``           sale price > list price
``unsupported_currency``                  currency not TRY, USD or EUR
``invalid_quantity``                      stock not an integer in [0, 1000000] (negative ->
                                          ``negative_stock``)
``negative_stock``                        stock below zero
``unknown_sku``                           (updates, deletes) no live product with that SKU
``unknown_product``                       (deletes by ``product_id``) no product with that id
========================================  ======================================================
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

DDL = (
    "CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "parent_id INTEGER, path TEXT NOT NULL, is_leaf INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS attributes (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL, "
    "name TEXT NOT NULL, kind TEXT NOT NULL, max_length INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS attribute_values (id INTEGER PRIMARY KEY, "
    "attribute_id INTEGER NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, "
    "UNIQUE (attribute_id, code))",
    "CREATE TABLE IF NOT EXISTS category_attributes (category_id INTEGER NOT NULL, "
    "attribute_id INTEGER NOT NULL, required INTEGER NOT NULL, variant INTEGER NOT NULL, "
    "PRIMARY KEY (category_id, attribute_id))",
)

MAX_ITEMS = 1000
SKU_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
BARCODE_RE = re.compile(r"^(?:\d{8}|\d{12,14})$")
MAX_TITLE = 100
MAX_DESCRIPTION = 5000
MAX_BRAND = 50
MAX_IMAGES = 8
MAX_STOCK = 1_000_000
CURRENCIES = frozenset({"TRY", "USD", "EUR"})
CENT = Decimal("0.01")
MAX_PRICE = Decimal(10**9)

Reason = dict[str, str]


def reason(code: str, field: str | None, message: str) -> Reason:
    out = {"code": code}
    if field is not None:
        out["field"] = field
    out["message"] = message
    return out


@dataclass(frozen=True)
class CategoryAttribute:
    id: int
    code: str
    name: str
    kind: str
    max_length: int
    required: bool
    variant: bool
    values: dict[str, tuple[int, str]]  # code -> (value id, display name)


@dataclass
class Catalog:
    """An in-memory view of the (static) reference data; reloaded after a reset."""

    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[int, dict[str, CategoryAttribute]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Catalog:
        catalog = cls()
        for cid, name, parent, path, leaf in conn.execute(
            "SELECT id, name, parent_id, path, is_leaf FROM categories ORDER BY id"
        ):
            catalog.categories[cid] = {
                "id": cid,
                "name": name,
                "parent_id": parent,
                "path": path,
                "is_leaf": bool(leaf),
            }
        values: dict[int, dict[str, tuple[int, str]]] = {}
        for vid, aid, code, name in conn.execute(
            "SELECT id, attribute_id, code, name FROM attribute_values ORDER BY id"
        ):
            values.setdefault(aid, {})[code] = (vid, name)
        for cid, aid, code, name, kind, max_length, required, variant in conn.execute(
            "SELECT ca.category_id, a.id, a.code, a.name, a.kind, a.max_length, ca.required, "
            "ca.variant FROM category_attributes ca JOIN attributes a ON a.id = ca.attribute_id "
            "ORDER BY ca.category_id, a.id"
        ):
            catalog.attributes.setdefault(cid, {})[code] = CategoryAttribute(
                aid,
                code,
                name,
                kind,
                max_length,
                bool(required),
                bool(variant),
                values.get(aid, {}),
            )
        return catalog

    def category_wire(self, cid: int) -> dict[str, Any]:
        return dict(self.categories[cid])

    def attribute_wire(self, attr: CategoryAttribute) -> dict[str, Any]:
        return {
            "id": attr.id,
            "code": attr.code,
            "name": attr.name,
            "type": attr.kind,
            "required": attr.required,
            "variant": attr.variant,
            "max_length": attr.max_length if attr.kind == "text" else None,
            "values": [
                {"id": vid, "code": code, "name": name} for code, (vid, name) in attr.values.items()
            ],
        }

    def tree(self) -> list[dict[str, Any]]:
        nodes = {cid: {**row, "children": []} for cid, row in self.categories.items()}
        roots: list[dict[str, Any]] = []
        for node in nodes.values():
            parent = node["parent_id"]
            (nodes[parent]["children"] if parent in nodes else roots).append(node)
        return roots


# --------------------------------------------------------------------------------- rules
def _text(
    item: dict[str, Any],
    name: str,
    limit: int,
    too_long: str,
    reasons: list[Reason],
    *,
    required: bool,
) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            reasons.append(reason("missing_field", name, f"{name} is required"))
        return None
    if not isinstance(value, str):
        reasons.append(reason("invalid_type", name, f"{name} must be a string"))
        return None
    if len(value) > limit:
        reasons.append(reason(too_long, name, f"{name} is longer than {limit} characters"))
    return value


def validate_sku(value: Any, reasons: list[Reason]) -> str | None:
    if value is None or value == "":
        reasons.append(reason("missing_field", "sku", "sku is required"))
        return None
    if not isinstance(value, str):
        reasons.append(reason("invalid_type", "sku", "sku must be a string"))
        return None
    if not SKU_RE.match(value):
        reasons.append(reason("invalid_sku", "sku", "sku must be 1-64 of [A-Za-z0-9._-]"))
        return None
    return value


def parse_money(value: Any, name: str, reasons: list[Reason]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        reasons.append(reason("invalid_price", name, f"{name} must be a decimal"))
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        reasons.append(reason("invalid_price", name, f"{name} must be a decimal"))
        return None
    if not amount.is_finite() or abs(amount) > MAX_PRICE:
        reasons.append(reason("invalid_price", name, f"{name} must be at most {MAX_PRICE}"))
        return None
    if amount != amount.quantize(CENT):
        reasons.append(reason("invalid_price", name, f"{name} must have at most 2 decimals"))
        return None
    if amount <= 0:
        reasons.append(reason("non_positive_price", name, f"{name} must be positive"))
        return None
    return amount


def validate_price(body: Any, prefix: str, reasons: list[Reason]) -> dict[str, str] | None:
    """``{"list_price", "sale_price"?, "currency"}`` -> normalised strings, or None."""
    if not isinstance(body, dict):
        reasons.append(
            reason("invalid_type", prefix.rstrip(".") or "price", "price must be an object")
        )
        return None
    before = len(reasons)
    if body.get("list_price") in (None, ""):
        reasons.append(reason("missing_field", f"{prefix}list_price", "list_price is required"))
        list_price = None
    else:
        list_price = parse_money(body["list_price"], f"{prefix}list_price", reasons)
    sale_raw = body.get("sale_price")
    sale_price = (
        list_price
        if sale_raw in (None, "")
        else parse_money(sale_raw, f"{prefix}sale_price", reasons)
    )
    if list_price is not None and sale_price is not None and sale_price > list_price:
        reasons.append(
            reason("sale_price_above_list_price", f"{prefix}sale_price", "sale_price > list_price")
        )
    currency = body.get("currency")
    if currency in (None, ""):
        reasons.append(reason("missing_field", f"{prefix}currency", "currency is required"))
    elif not isinstance(currency, str) or currency.upper() not in CURRENCIES:
        reasons.append(
            reason(
                "unsupported_currency",
                f"{prefix}currency",
                f"currency must be one of {', '.join(sorted(CURRENCIES))}",
            )
        )
    if len(reasons) > before or list_price is None or sale_price is None:
        return None
    assert isinstance(currency, str)
    return {
        "list_price": f"{list_price:.2f}",
        "sale_price": f"{sale_price:.2f}",
        "currency": currency.upper(),
    }


def validate_quantity(value: Any, name: str, reasons: list[Reason]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        reasons.append(reason("invalid_quantity", name, f"{name} must be an integer"))
        return None
    if value < 0:
        reasons.append(reason("negative_stock", name, f"{name} must not be negative"))
        return None
    if value > MAX_STOCK:
        reasons.append(reason("invalid_quantity", name, f"{name} must be at most {MAX_STOCK}"))
        return None
    return value


def validate_images(value: Any, name: str, reasons: list[Reason]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        reasons.append(reason("invalid_type", name, f"{name} must be a list of URLs"))
        return None
    before = len(reasons)
    if len(value) > MAX_IMAGES:
        reasons.append(reason("too_many_images", name, f"at most {MAX_IMAGES} images"))
    for index, url in enumerate(value):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            reasons.append(
                reason("invalid_image_url", f"{name}[{index}]", "not an absolute http(s) URL")
            )
    return None if len(reasons) > before else list(value)


def validate_attributes(
    catalog: Catalog, category_id: int, value: Any, reasons: list[Reason]
) -> dict[str, str] | None:
    if not isinstance(value, dict):
        reasons.append(reason("invalid_type", "attributes", "attributes must be an object"))
        return None
    allowed = catalog.attributes.get(category_id, {})
    out: dict[str, str] = {}
    for code, attr in allowed.items():
        given = value.get(code)
        if given is None or given == "":
            if attr.required:
                reasons.append(
                    reason(
                        "missing_required_attribute",
                        f"attributes.{code}",
                        f"category {category_id} requires {code}",
                    )
                )
            continue
        if not isinstance(given, str):
            reasons.append(reason("invalid_type", f"attributes.{code}", "values are strings"))
        elif attr.kind == "enum" and given not in attr.values:
            reasons.append(
                reason(
                    "attribute_value_not_allowed",
                    f"attributes.{code}",
                    f"{given!r} is not one of {', '.join(attr.values)}",
                )
            )
        elif attr.kind == "text" and len(given) > attr.max_length:
            reasons.append(
                reason(
                    "attribute_value_too_long",
                    f"attributes.{code}",
                    f"longer than {attr.max_length} characters",
                )
            )
        else:
            out[code] = given
    for code in value:
        if code not in allowed:
            reasons.append(
                reason(
                    "unknown_attribute",
                    f"attributes.{code}",
                    f"category {category_id} has no attribute {code!r}",
                )
            )
    return out


def validate_product(catalog: Catalog, item: Any) -> tuple[dict[str, Any] | None, list[Reason]]:
    """One upsert item -> (clean values, []) or (None, reasons). Barcode uniqueness and
    duplicate SKUs need the store and the whole request; ``products.apply_upsert`` adds them."""
    reasons: list[Reason] = []
    if not isinstance(item, dict):
        return None, [reason("invalid_item", None, "each item must be an object")]
    sku = validate_sku(item.get("sku"), reasons)
    title = _text(item, "title", MAX_TITLE, "title_too_long", reasons, required=True)
    description = _text(
        item, "description", MAX_DESCRIPTION, "description_too_long", reasons, required=False
    )
    brand = _text(item, "brand", MAX_BRAND, "brand_too_long", reasons, required=True)
    category_id = item.get("category_id")
    leaf: int | None = None
    if category_id is None:
        reasons.append(reason("missing_field", "category_id", "category_id is required"))
    elif isinstance(category_id, bool) or not isinstance(category_id, int):
        reasons.append(reason("invalid_type", "category_id", "category_id must be an integer"))
    elif category_id not in catalog.categories:
        reasons.append(reason("unknown_category", "category_id", f"no category {category_id}"))
    elif not catalog.categories[category_id]["is_leaf"]:
        reasons.append(
            reason("category_not_leaf", "category_id", f"category {category_id} is not a leaf")
        )
    else:
        leaf = category_id
    barcode = item.get("barcode")
    if barcode in (None, ""):
        reasons.append(reason("missing_field", "barcode", "barcode is required"))
    elif not isinstance(barcode, str) or not BARCODE_RE.match(barcode):
        reasons.append(
            reason("invalid_barcode", "barcode", "barcode must be 8, 12, 13 or 14 digits")
        )
    attributes = (
        None
        if leaf is None
        else validate_attributes(catalog, leaf, item.get("attributes") or {}, reasons)
    )
    images = None
    if item.get("images") is not None:
        images = validate_images(item["images"], "images", reasons)
    price = None
    if item.get("price") is not None:
        price = validate_price(item["price"], "price.", reasons)
    stock = None
    if item.get("stock") is not None:
        stock = validate_quantity(item["stock"], "stock", reasons)
    if reasons:
        return None, reasons
    return {
        "sku": sku,
        "title": title,
        "description": description,
        "brand": brand,
        "category_id": category_id,
        "barcode": barcode,
        "attributes": attributes,
        "images": images,
        "price": price,
        "stock": stock,
    }, []
