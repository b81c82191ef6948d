"""The channel and the lists around its catalog: channels, catalogs, content types, price
and stock lists, retail stores (generic CRUD)."""

from __future__ import annotations

from ..route_table import Crud, Entry

READ = ("list", "retrieve")

ROUTES: list[Entry] = [
    Crud("channels", "channels", ("list", "retrieve", "update"), scoped=False),
    Crud("catalogs", "catalogs", READ, scoped=False),
    Crud("content_types", "content_types", READ, scoped=False),
    Crud("price_lists", "price_lists", READ),
    Crud("stock_lists", "stock_lists", READ),
    Crud("retail_stores", "retail_stores", READ),
]
