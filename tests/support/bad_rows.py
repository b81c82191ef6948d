"""Planting rows the Omnitron simulator's API would refuse to store (a ``modified_date`` in
2099 or not a date at all, a name that is null): the one place tests do it.

It goes through the simulator's public ``PATCH /_sandbox/raw/<table>/<pk>/`` route, which
stores the values exactly as given, unvalidated, and leaves the row's ``modified_date`` as it
is unless it is one of the columns; :func:`plant_product` can also have a row served without
some of its keys (``omit=["pk"]``). Rows the public API can already store malformed (a JSON
field set to ``null`` or a list) are planted with ordinary PATCHes by the tests themselves.
"""

from __future__ import annotations

from typing import Any

from tests.support.omnitron import OmnitronSim

__all__ = ["TABLES", "plant", "plant_product"]

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
    status, body = sim.call(
        "PATCH", f"/_sandbox/raw/{table}/{pk}/", {"values": columns, "touch": False}
    )
    if status != 200:
        raise AssertionError(f"{table} row {pk}: {status} {body}")


def plant_product(
    sim: OmnitronSim,
    pk: int,
    values: dict[str, Any] | None = None,
    omit: list[str] | None = None,
) -> Any:
    """Product ``pk`` stored with raw ``values`` and served without the keys ``omit``;
    returns ``{"stored", "omit", "served"}``."""
    if not values and not omit:
        raise ValueError("plant some values, or omit some keys")
    return sim.plant("products", values or {}, obj_id=pk, omit=omit, touch=False)
