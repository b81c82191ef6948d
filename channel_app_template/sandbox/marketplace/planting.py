"""Bad orders planted on purpose (``POST /_sandbox/orders/plant/``), for hostile-data tests.

A planted order starts as one good generated order (one line, from live products) and then
gets raw values written over it, unvalidated, exactly as given: the marketplace stores and
lists what it was given, as a real one would after a bug on its side. ``kind`` names a preset;
``order`` and ``lines`` add or override raw values (``lines[i]`` overrides line ``i``; an index
past the last line adds a copy of line 0 with those values, i.e. a duplicate SKU line).

==========================  ================================================================
kind                        what is stored
==========================  ================================================================
``bad_price``               line 0 ``unit_price`` ``"12,50 TL"`` (not a number)
``huge_quantity``           line 0 ``quantity`` 10**12
``negative_price``          line 0 ``unit_price`` and ``list_price`` ``"-10.00"``
``negative_tax``            line 0 ``tax_rate`` ``"-18"``
``discount_above_price``    line 0 ``discount_amount`` = line total + 100
``bad_currency``            order ``currency`` ``"XXXX"``
``duplicate_sku``           a second line with line 0's SKU and product
``long_title``              line 0 ``title`` of 10,240 characters
==========================  ================================================================

Events and claims (``PATCH /_sandbox/orders/plant/events/<event_id>/`` and
``.../plant/claims/<claim_id>/``) are planted over existing ones: an event's type-specific
fields (what ``GET /order-events`` merges into it: ``line_id``, ``status``, ``lines``...)
are merged with, or with ``"replace": true`` replaced by, the given ``values``; a claim's
stored columns (:data:`CLAIM_COLUMNS`) are set to the given raw values. Both answer the
event or claim as the API now lists it.
"""

# SQL here is built only from column names listed in this module; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
import math
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import loads_or_raw

from . import orders
from .errors import api_error

if TYPE_CHECKING:
    from .store import MarketStore

__all__ = [
    "CLAIM_COLUMNS",
    "KINDS",
    "MAX_EVENT_KEYS",
    "MAX_LINES",
    "MAX_TEXT",
    "plant",
    "plant_claim",
    "plant_event",
]

KINDS = (
    "bad_price",
    "huge_quantity",
    "negative_price",
    "negative_tax",
    "discount_above_price",
    "bad_currency",
    "duplicate_sku",
    "long_title",
)
MAX_LINES = 50
MAX_TEXT = 100_000
MAX_INT = 2**63 - 1
ORDER_COLUMNS = {
    "number": False,
    "status": False,
    "currency": False,
    "customer": True,  # True: a JSON column (any JSON value is stored as JSON text)
    "shipping_address": True,
    "billing_address": True,
    "cargo_code": False,
    "shipping_amount": False,
    "discount_amount": False,
    "tracking_number": False,
    "invoice_number": False,
    "invoice_date": False,
}
LINE_COLUMNS = (
    "sku",
    "product_id",
    "title",
    "quantity",
    "cancelled_quantity",
    "returned_quantity",
    "unit_price",
    "list_price",
    "discount_amount",
    "tax_rate",
    "status",
    "tracking_number",
)
CLAIM_COLUMNS = ("type", "quantity", "reason_code", "description", "status")
MAX_EVENT_KEYS = 50
MAX_KEY = 200
NULLABLE = frozenset({"tracking_number", "invoice_number", "invoice_date"})
LINE_COPY = (
    "order_seq, sku, product_id, title, quantity, cancelled_quantity, returned_quantity, "
    "unit_price, list_price, discount_amount, tax_rate, status, updated_at"
)


def _preset(kind: str, line: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(order overrides, line overrides) of a named kind; ``line`` is the generated line 0."""
    if kind == "bad_price":
        return {}, [{"unit_price": "12,50 TL"}]
    if kind == "huge_quantity":
        return {}, [{"quantity": 10**12}]
    if kind == "negative_price":
        return {}, [{"unit_price": "-10.00", "list_price": "-10.00"}]
    if kind == "negative_tax":
        return {}, [{"tax_rate": "-18"}]
    if kind == "discount_above_price":
        total = Decimal(line["unit_price"]) * int(line["quantity"])
        return {}, [{"discount_amount": orders.money(total + 100)}]
    if kind == "bad_currency":
        return {"currency": "XXXX"}, []
    if kind == "duplicate_sku":
        return {}, [{}, {}]
    return {}, [{"title": "T" * 10_240}]  # long_title


def _raw(name: str, value: Any, json_column: bool) -> Any:
    if value is None and name not in NULLABLE:
        raise api_error(400, "invalid_request", f"{name} cannot be null (the column is NOT NULL).")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise api_error(400, "invalid_request", f"{name}: integers are limited to +-{MAX_INT}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise api_error(400, "invalid_request", f"{name}: numbers must be finite.")
    stored = json.dumps(value) if json_column or isinstance(value, dict | list) else value
    if isinstance(stored, str) and len(stored) > MAX_TEXT:
        raise api_error(400, "invalid_request", f"{name} is limited to {MAX_TEXT} characters.")
    return stored


def _overrides(raw: Any, columns: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise api_error(400, "invalid_request", f"{where} is an object of column: raw value.")
    unknown = sorted(set(raw) - set(columns))
    if unknown:
        raise api_error(
            400, "invalid_request", f"{where}: unknown column(s) {unknown}; use {list(columns)}."
        )
    return dict(raw)


def parse(body: Any) -> tuple[str | None, dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(kind, order overrides, line overrides, generate options) of a plant request."""
    if not isinstance(body, dict):
        raise api_error(400, "invalid_request", "Expected an object.")
    allowed = {"kind", "order", "lines", "skus", "seed", "number_prefix"}
    if set(body) - allowed:
        raise api_error(400, "invalid_request", f"Unknown keys; use {sorted(allowed)}.")
    kind = body.get("kind")
    if kind is not None and kind not in KINDS:
        raise api_error(400, "invalid_request", f"kind must be one of {list(KINDS)}.")
    order = {
        k: _raw(k, v, ORDER_COLUMNS[k])
        for k, v in _overrides(body.get("order"), ORDER_COLUMNS, "order").items()
    }
    raw_lines = body.get("lines") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > MAX_LINES:
        raise api_error(400, "invalid_request", f"lines is a list of at most {MAX_LINES} objects.")
    lines = [
        {k: _raw(k, v, False) for k, v in _overrides(item or {}, LINE_COLUMNS, "lines").items()}
        for item in raw_lines
    ]
    options = {k: body[k] for k in ("skus", "seed", "number_prefix") if k in body}
    if kind is None and not order and not lines:
        raise api_error(400, "invalid_request", "Give a kind, or order/lines values to plant.")
    return kind, order, lines, options


def plant(store: MarketStore, body: Any) -> dict[str, Any]:
    """Generate one good order, then store the bad values over it; answers what is listed."""
    kind, order_values, line_values, options = parse(body)
    spec = orders.GenerateSpec.parse({"count": 1, "items_per_order": 1, **options})
    with store.tx() as conn:  # one transaction: a refused value leaves no order behind
        made = orders.generate(store, spec)
        seq = orders.parse_id(made["first_order_id"], "MO")
        assert seq is not None
        line_rows = conn.execute(
            "SELECT seq, unit_price, quantity FROM order_lines WHERE order_seq = ? ORDER BY seq",
            (seq,),
        ).fetchall()
        first = {"unit_price": line_rows[0][1], "quantity": line_rows[0][2]}
        preset_order, preset_lines = _preset(kind, first) if kind else ({}, [])
        merged_order = {**preset_order, **order_values}
        count = max(len(preset_lines), len(line_values))
        merged_lines = [
            {
                **(preset_lines[i] if i < len(preset_lines) else {}),
                **(line_values[i] if i < len(line_values) else {}),
            }
            for i in range(count)
        ]
        _write(conn, seq, [int(r[0]) for r in line_rows], merged_order, merged_lines)
        conn.execute(
            "UPDATE orders SET kind = ? WHERE seq = ?", (f"planted:{kind or 'custom'}", seq)
        )
    order = orders.get_order(store, made["first_order_id"])
    number = order.get("number") if isinstance(order, dict) else None
    return {"order_id": made["first_order_id"], "number": number, "kind": kind, "served": order}


def _write(
    conn: sqlite3.Connection,
    seq: int,
    line_seqs: list[int],
    order_values: dict[str, Any],
    line_values: list[dict[str, Any]],
) -> None:
    if order_values:
        values = order_values
        try:
            conn.execute(
                f"UPDATE orders SET {', '.join(f'{k} = ?' for k in values)} WHERE seq = ?",
                [*values.values(), seq],
            )
        except sqlite3.IntegrityError as exc:
            raise api_error(409, "conflict", f"The store refused the values: {exc}.") from None
    for index, values in enumerate(line_values):
        if index < len(line_seqs):
            target = line_seqs[index]
        else:  # a copy of line 0: same SKU and product
            cursor = conn.execute(
                f"INSERT INTO order_lines ({LINE_COPY}) SELECT {LINE_COPY} FROM order_lines "
                "WHERE seq = ?",
                (line_seqs[0],),
            )
            target = int(cursor.lastrowid or 0)
        if values:
            conn.execute(
                f"UPDATE order_lines SET {', '.join(f'{k} = ?' for k in values)} WHERE seq = ?",
                [*values.values(), target],
            )


def _values_body(body: Any, extra: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``{"values": {...}}`` (plus ``extra`` keys) of an event or claim plant request."""
    if not isinstance(body, dict) or set(body) - {"values", *extra}:
        keys = ", ".join(sorted({"values", *extra}))
        raise api_error(400, "invalid_request", f"Expected an object with keys {keys}.")
    values = body.get("values")
    if not isinstance(values, dict) or not values:
        raise api_error(400, "invalid_request", "values is a non-empty object.")
    return values


def plant_event(store: MarketStore, event_id: str, body: Any) -> dict[str, Any]:
    """Merge (``replace``: swap) raw ``values`` into an event's type-specific fields."""
    values = _values_body(body, frozenset({"replace"}))
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise api_error(400, "invalid_request", "replace is true or false.")
    if len(values) > MAX_EVENT_KEYS or not all(0 < len(k) <= MAX_KEY for k in values):
        raise api_error(
            400,
            "invalid_request",
            f"values has at most {MAX_EVENT_KEYS} keys of 1 to {MAX_KEY} characters.",
        )
    seq = orders.parse_id(event_id, "EV")
    with store.tx() as conn:
        row = (
            None
            if seq is None
            else conn.execute("SELECT data FROM order_events WHERE seq = ?", (seq,)).fetchone()
        )
        if row is None or seq is None:
            raise api_error(404, "not_found", "No such event.")
        current = loads_or_raw(row[0])
        data = values if replace or not isinstance(current, dict) else {**current, **values}
        stored = _raw("values", data, True)  # bounded like any planted text
        conn.execute("UPDATE order_events SET data = ? WHERE seq = ?", (stored, seq))
    found = orders.get_event(store, event_id)
    assert found is not None
    return found


def plant_claim(store: MarketStore, claim_id: str, body: Any) -> dict[str, Any]:
    """Set a claim's stored columns to raw ``values``."""
    raw = _overrides(_values_body(body), CLAIM_COLUMNS, "values")
    values = {k: _raw(k, v, False) for k, v in raw.items()}
    seq = orders.parse_id(claim_id, "CL")
    with store.tx() as conn:
        cursor = (
            None
            if seq is None
            else conn.execute(
                f"UPDATE claims SET {', '.join(f'{k} = ?' for k in values)} WHERE seq = ?",
                [*values.values(), seq],
            )
        )
        if cursor is None or cursor.rowcount == 0:
            raise api_error(404, "not_found", "No such claim.")
    found = orders.get_claim(store, claim_id)
    assert found is not None
    return found
