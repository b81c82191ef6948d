"""The tables the orders live in and the words they use: statuses, types, codes.

Every other module of the package reads and writes these tables with these words, so they are
kept in one place, with the two query helpers they share (``chunks``, ``ack_clause``) and the
check of a reason code; ``store.py`` builds the schema from :data:`DDL`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import api_error

DDL = (
    "CREATE TABLE IF NOT EXISTS orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "number TEXT UNIQUE NOT NULL, status TEXT NOT NULL, kind TEXT NOT NULL, "
    "currency TEXT NOT NULL, customer TEXT NOT NULL, shipping_address TEXT NOT NULL, "
    "billing_address TEXT NOT NULL, cargo_code TEXT NOT NULL, shipping_amount TEXT NOT NULL, "
    "discount_amount TEXT NOT NULL, tracking_number TEXT, invoice_number TEXT, "
    "invoice_date TEXT, malformed TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, "
    "acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_orders_unacked ON orders (acknowledged_at, seq)",
    "CREATE TABLE IF NOT EXISTS order_lines (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_seq INTEGER NOT NULL, sku TEXT NOT NULL, product_id TEXT NOT NULL, "
    "title TEXT NOT NULL, quantity INTEGER NOT NULL, cancelled_quantity INTEGER NOT NULL "
    "DEFAULT 0, returned_quantity INTEGER NOT NULL DEFAULT 0, unit_price TEXT NOT NULL, "
    "list_price TEXT NOT NULL, discount_amount TEXT NOT NULL, tax_rate TEXT NOT NULL, "
    "status TEXT NOT NULL, tracking_number TEXT, invoice_number TEXT, invoice_date TEXT, "
    "updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_order_lines_order ON order_lines (order_seq, seq)",
    "CREATE TABLE IF NOT EXISTS order_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "type TEXT NOT NULL, order_seq INTEGER NOT NULL, data TEXT NOT NULL, "
    "created_at REAL NOT NULL, acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_order_events_unacked ON order_events "
    "(type, acknowledged_at, seq)",
    "CREATE TABLE IF NOT EXISTS claims (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_seq INTEGER NOT NULL, line_seq INTEGER NOT NULL, type TEXT NOT NULL, "
    "quantity INTEGER NOT NULL, reason_code TEXT NOT NULL, description TEXT NOT NULL, "
    "status TEXT NOT NULL, decision_note TEXT, created_at REAL NOT NULL, "
    "decided_at REAL, acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_claims_unacked ON claims (acknowledged_at, seq)",
)
DATA_TABLES = ("claims", "order_events", "order_lines", "orders")

CREATED, PICKING, SHIPPED, DELIVERED = "created", "picking", "shipped", "delivered"
CANCELLED, RETURNED = "cancelled", "returned"
PROGRESS = (CREATED, PICKING, SHIPPED, DELIVERED)
RANK = {status: rank for rank, status in enumerate(PROGRESS)}
LINE_STATUSES = (*PROGRESS, CANCELLED, RETURNED)
SELLER_STATUSES = (PICKING, SHIPPED, DELIVERED, CANCELLED)
CANCELLABLE = (CREATED, PICKING)
EVENT_TYPES = ("line_update", "cancellation")
CLAIM_TYPES = ("cancel", "return")
CLAIM_WAITING, CLAIM_APPROVED, CLAIM_REJECTED = "waiting", "approved", "rejected"
DECISIONS = {"approve": CLAIM_APPROVED, "reject": CLAIM_REJECTED}

# Cargo companies the marketplace knows. The Omnitron simulator seeds yurtici, aras and mng as
# cargo erp_codes; ptt and surat exist only here (orders with them test unknown cargos).
CARGO_CODES = ("yurtici", "aras", "mng", "ptt", "surat")
# Reason codes; the comment is the Omnitron simulator's seeded cancellation reason (its pk).
REASON_CODES = (
    "changed_mind",  # 1 Customer changed their mind
    "out_of_stock",  # 2 Out of stock
    "payment_problem",  # 3 Payment problem
    "damaged_item",  # 4 Damaged item
    "wrong_item",  # 5 Wrong item sent
    "not_as_described",  # 6 Not as described
    "late_delivery",  # 7 Late delivery
    "size_problem",  # 8 Size problem
    "duplicate_order",  # 9 Duplicate order
    "other",  # 10 Other
)
CANCEL_REASONS = ("changed_mind", "out_of_stock", "payment_problem", "duplicate_order", "other")
RETURN_REASONS = ("damaged_item", "wrong_item", "not_as_described", "size_problem")

# Ids per ``IN (...)`` query, well under SQLite's bound-parameter limit.
CHUNK = 500


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def ack_clause(acknowledged: bool | None) -> str:
    if acknowledged is None:
        return "1=1"
    return "acknowledged_at IS NOT NULL" if acknowledged else "acknowledged_at IS NULL"


def reason_code(value: Any, default: str) -> str:
    code = default if value is None else value
    if code not in REASON_CODES:
        raise api_error(400, "unknown_reason", f"reason_code must be one of {list(REASON_CODES)}.")
    return str(code)
