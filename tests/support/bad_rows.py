"""Planting rows the Omnitron simulator's API would refuse to store (a ``modified_date`` in
2099 or not a date at all, a name that is null): the one place tests do it.

It writes the simulator's SQLite file directly, then makes one harmless write through the
API so the simulator's count cache (kept per write generation) sees the change. When the
simulator grows a public ``/_sandbox/`` route for malformed rows, only this function changes.
Rows the public API can already store malformed (a JSON field set to ``null`` or a list)
are planted with ordinary PATCHes by the tests themselves.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.support.omnitron import OmnitronSim

TABLES = frozenset(
    {
        "products",
        "product_prices",
        "product_stocks",
        "product_images",
        "category_nodes",
        "attributes",
        "attribute_values",
    }
)


def plant(sim: OmnitronSim, table: str, pk: int, **columns: Any) -> None:
    """Set ``columns`` of row ``pk`` of ``table`` to raw values, bypassing validation."""
    if table not in TABLES or not columns or not all(c.isidentifier() for c in columns):
        raise ValueError(f"cannot plant {sorted(columns)} into {table!r}")
    assignments = ", ".join(f'"{name}" = ?' for name in columns)
    with sqlite3.connect(sim.state, timeout=30) as db:
        changed = db.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?",  # noqa: S608 - names checked
            [*columns.values(), pk],
        ).rowcount
    if changed != 1:
        raise AssertionError(f"{table} has no row {pk}")
    api = sim.client()
    channel = api.ok("GET", "/channels/1/")
    api.ok("PATCH", "/channels/1/", {"name": channel["name"]})  # a new write generation
