"""Hostile order data planted in the reference marketplace simulator, for tests.

Every kind of bad value the order flows must survive is a named mutation of a good order's
wire payload (:data:`ORDER_MUTATIONS`). Orders are made good through the simulator's
``/_sandbox/orders/generate/`` route and read back through ``/_sandbox/orders/{id}/``;
:func:`plant` is then the one place that makes the simulator serve the mutated payload.

The simulator has no route for serving an arbitrary payload yet, so :func:`plant` writes
it where the simulator keeps what it serves: the ``malformed`` column of the order (served
verbatim by the listing), an event's ``data`` (merged into the event as served) or a
claim's columns, in its SQLite file. When the simulator gets a route for planting, switch
:func:`plant` to it; nothing else needs to change.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from tests.support.marketplace import MarketplaceSim

__all__ = ["ORDER_MUTATIONS", "hostile_order", "plant"]

Wire = dict[str, Any]


def _first_line(change: Callable[[Wire], None]) -> Callable[[Wire], None]:
    def apply(order: Wire) -> None:
        change(order["lines"][0])

    return apply


def _discount_above_price(line: Wire) -> None:
    top = max(Decimal(line["unit_price"]), Decimal(line.get("list_price") or 0))
    line["discount_amount"] = str(top + 100)


def _unknown_currency(order: Wire) -> None:
    order["currency"] = "XXXX"
    for line in order["lines"]:
        line["currency"] = "XXXX"


def _duplicate_line(order: Wire) -> None:
    twin = copy.deepcopy(order["lines"][0])
    twin["line_id"] = "ML9" + twin["line_id"][3:]  # another line, the same product
    order["lines"].append(twin)


def _huge_texts(order: Wire) -> None:
    order["customer"]["first_name"] = "A" * 10_000
    order["shipping_address"]["address_line"] = "S" * 10_000
    for line in order["lines"]:
        line["title"] = "T" * 10_000


ORDER_MUTATIONS: dict[str, Callable[[Wire], None]] = {
    "huge_quantity": _first_line(lambda line: line.update(quantity=10**12)),
    "quantity_over_limit": _first_line(lambda line: line.update(quantity=5_000)),
    "negative_unit_price": _first_line(lambda line: line.update(unit_price="-10.00")),
    "negative_list_price": _first_line(lambda line: line.update(list_price="-10.00")),
    "negative_tax": _first_line(lambda line: line.update(tax_rate="-18")),
    "discount_above_price": _first_line(_discount_above_price),
    "unknown_currency": _unknown_currency,
    "duplicate_line": _duplicate_line,
    "huge_texts": _huge_texts,
}
"""Each a nonsense value the issue lists, applied to a good order's payload in place."""


def hostile_order(good: Wire, kind: str) -> Wire:
    """A copy of ``good`` (a served order payload) with the ``kind`` mutation applied."""
    order = copy.deepcopy(good)
    ORDER_MUTATIONS[kind](order)
    return order


def plant(
    market: MarketplaceSim,
    what: Literal["order", "event", "claim"],
    item_id: str,
    payload: Wire,
) -> None:
    """Make the simulator serve ``payload`` for one existing item.

    ``order``: the whole order as listed; ``event``: the event's type-specific fields
    (``line_id``, ``lines``...); ``claim``: stored claim columns (``quantity``,
    ``reason_code``, ``description``...). Written to the simulator's SQLite file (see the
    module docstring); the served data is what changes, ids and acknowledgements do not.
    """
    seq = int(item_id[2:])  # MOnnnnnnnn, EVnnnnnnnn, CLnnnnnnnn
    with sqlite3.connect(market.state, timeout=30) as conn:
        if what == "order":
            conn.execute(
                "UPDATE orders SET malformed = ? WHERE seq = ?", (json.dumps(payload), seq)
            )
        elif what == "event":
            conn.execute(
                "UPDATE order_events SET data = ? WHERE seq = ?", (json.dumps(payload), seq)
            )
        else:
            columns = ("type", "quantity", "reason_code", "description", "status")
            unknown = set(payload) - set(columns)
            if unknown:
                raise ValueError(f"claim columns are {columns}, not {sorted(unknown)}")
            assignments = ", ".join(f"{name} = ?" for name in payload)
            conn.execute(
                f"UPDATE claims SET {assignments} WHERE seq = ?",  # noqa: S608 (names checked)
                (*payload.values(), seq),
            )
