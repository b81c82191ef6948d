"""Products: merchant-side CRUD, the channel's catalog view with its change views, and the
mapped attributes of one product."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Sim, channel_of, guard
from ..http import json_response
from ..route_table import CHANNEL, Crud, Entry, route
from ._listings import change_view
from ._mapping import map_product

ALL = ("list", "retrieve", "create", "update", "replace", "delete")


def cascade_product_delete(sim: Sim, product: dict[str, Any]) -> None:
    """Deleting a product takes its prices, stocks, images and category links with it. # [INF]"""
    for table in ("product_prices", "product_stocks", "product_images", "product_categories"):
        sim.store.conn.execute(f"DELETE FROM {table} WHERE product = ?", (product["id"],))  # noqa: S608


async def mapped_product(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    product = sim.store.require("products", int(request.path_params["obj_id"]))
    return json_response(map_product(sim, cid, product))


ROUTES: list[Entry] = [
    Crud("products", "products", ALL, scoped=False, before_delete=cascade_product_delete),
    # one catalog per channel: every product belongs to it # [INF]
    Crud("products", "products", ("list", "retrieve")),
    *(change_view("products", "products", v) for v in ("inserts", "updates", "inserts_or_updates")),
    route(f"{CHANNEL}/mapped_products/{{obj_id:int}}/", GET=mapped_product),
]
