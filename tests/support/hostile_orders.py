"""Hostile order data planted in the reference marketplace simulator, for tests.

Orders: :func:`plant_order` stores one order carrying one nonsense value of the
hostile-data review through the simulator's ``POST /_sandbox/orders/plant/`` (a good
generated order with raw values written over it, see ``sandbox/marketplace/planting.py``).

Events and claims: the simulator has no planting route for them yet, so
:func:`plant_row` writes the raw values where the simulator keeps what it serves (an
event's ``data``, merged into the event as listed; a claim's columns) in its SQLite file.
It is the one place to switch once such a route exists.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

from tests.support.marketplace import MarketplaceSim

__all__ = ["ORDER_KINDS", "plant_order", "plant_row"]

HUGE_CUSTOMER = {
    "id": "C00000001",
    "email": "buyer@example.com",
    "first_name": "A" * 10_000,
    "last_name": "B",
    "phone": "+905550000000",
}
ORDER_KINDS: dict[str, dict[str, Any]] = {
    "huge_quantity": {"kind": "huge_quantity"},  # 10**12 units on one line
    "quantity_over_limit": {"lines": [{"quantity": 5_000}]},  # fits the DTO, not the limit
    "negative_unit_price": {"lines": [{"unit_price": "-10.00"}]},
    "negative_list_price": {"lines": [{"list_price": "-10.00"}]},
    "negative_tax": {"kind": "negative_tax"},
    "discount_above_price": {"lines": [{"discount_amount": "99999.00"}]},
    "unknown_currency": {"kind": "bad_currency"},  # XXXX
    "duplicate_line": {"kind": "duplicate_sku"},  # the same product on a second line
    "huge_texts": {"kind": "long_title", "order": {"customer": HUGE_CUSTOMER}},
}
"""Each a nonsense value the issue lists, as a body for the simulator's plant route."""


def plant_order(market: MarketplaceSim, kind: str, number_prefix: str = "H-") -> Any:
    """One planted order of ``kind``; ``{order_id, number, kind, served}``."""
    return market.plant_order(**ORDER_KINDS[kind], number_prefix=number_prefix)


def plant_row(
    market: MarketplaceSim, what: Literal["event", "claim"], item_id: str, values: dict[str, Any]
) -> None:
    """Serve ``values`` for one existing event (its type-specific fields: ``line_id``,
    ``status``, ``lines``...) or claim (stored columns: ``quantity``, ``reason_code``...)."""
    seq = int(item_id[2:])  # EVnnnnnnnn, CLnnnnnnnn
    with sqlite3.connect(market.state, timeout=30) as conn:
        if what == "event":
            conn.execute(
                "UPDATE order_events SET data = ? WHERE seq = ?", (json.dumps(values), seq)
            )
            return
        columns = ("type", "quantity", "reason_code", "description", "status")
        unknown = set(values) - set(columns)
        if unknown:
            raise ValueError(f"claim columns are {columns}, not {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        conn.execute(
            f"UPDATE claims SET {assignments} WHERE seq = ?",  # noqa: S608 (names checked)
            (*values.values(), seq),
        )
