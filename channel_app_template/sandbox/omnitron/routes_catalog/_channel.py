"""The channel and the lists around its catalog: channels, catalogs, content types, price
and stock lists, retail stores (generic CRUD), and ``catalog_of`` for the other areas."""

from __future__ import annotations

from typing import Any

from ..context import Sim
from ..errors import ApiError
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


def catalog_of(sim: Sim, cid: int) -> dict[str, Any]:
    channel = sim.store.require("channels", cid)
    catalog = sim.store.get("catalogs", int(channel["catalog"] or 0))
    if catalog is None:
        raise ApiError(406, {"error": "Channel has no catalog."})
    return catalog
