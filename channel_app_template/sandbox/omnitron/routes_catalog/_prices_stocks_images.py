"""Prices, stocks and images: merchant-side CRUD, the channel's lists (prices and stocks of
the catalog's default or extra lists) and their change views."""

from __future__ import annotations

from ..route_table import Crud, Entry
from ._listings import change_view, scoped_lists
from ._products import ALL


def _priced(name: str, table: str, key: str) -> list[Entry]:
    entries: list[Entry] = [
        Crud(name, table, ALL, scoped=False),  # merchant-side edits # [INF]
        *scoped_lists(name, table, key, extra=False),
        *scoped_lists(f"extra_{name}", table, key, extra=True),
    ]
    for view in ("inserts", "updates"):
        entries.append(change_view(name, table, view, list_key=key, extra=False))
        entries.append(change_view(f"extra_{name}", table, view, list_key=key, extra=True))
    return entries


ROUTES: list[Entry] = [
    *_priced("product_prices", "product_prices", "price_list"),
    *_priced("product_stocks", "product_stocks", "stock_list"),
    Crud("product_images", "product_images", ALL, scoped=False),
    Crud("product_images", "product_images", ("list", "retrieve")),
    *(change_view("product_images", "product_images", v) for v in ("inserts", "updates")),
]
