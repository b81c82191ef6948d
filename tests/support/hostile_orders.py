"""Hostile order data planted in the reference marketplace simulator, for tests.

Orders: :func:`plant_order` stores one order carrying one nonsense value of the
hostile-data review through the simulator's ``POST /_sandbox/orders/plant/`` (a good
generated order with raw values written over it, see ``sandbox/marketplace/planting.py``).

Events and claims: :func:`plant_row` overwrites one existing event or claim through the
simulator's ``PATCH /_sandbox/orders/plant/events|claims/<id>/``, so no test writes the
simulator's SQLite file.
"""

from __future__ import annotations

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
    "unparsable_price": {"kind": "bad_price"},  # "12,50 TL" stored as the unit price
}
"""Each a nonsense value the issue lists, as a body for the simulator's plant route."""


def plant_order(market: MarketplaceSim, kind: str, number_prefix: str = "H-") -> Any:
    """One planted order of ``kind``; ``{order_id, number, kind, served}``."""
    return market.plant_order(**ORDER_KINDS[kind], number_prefix=number_prefix)


def plant_row(
    market: MarketplaceSim, what: Literal["event", "claim"], item_id: str, values: dict[str, Any]
) -> Any:
    """Serve ``values`` for one existing event (its type-specific fields: ``line_id``,
    ``status``, ``lines``..., replacing the ones it had) or claim (stored columns:
    ``quantity``, ``reason_code``...); returns the event or claim as now listed."""
    if what == "event":
        body: dict[str, Any] = {"values": values, "replace": True}
        return market.control("PATCH", f"orders/plant/events/{item_id}/", body)
    return market.control("PATCH", f"orders/plant/claims/{item_id}/", {"values": values})
