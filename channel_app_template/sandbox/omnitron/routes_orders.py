"""Order-side routes: orders, order items, customers, addresses, locations, cargos,
cancellation reasons and requests, shipping infos.

The write rules and the create/cancel actions they reach are in :mod:`.orders`."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from .context import channel_of, guard
from .crud import API
from .errors import not_found
from .http import json_response, list_response, read_json
from .orders import (
    bump_order,
    cancel_order,
    cancellation_request,
    create_order,
    customer_defaults,
    dedupe_address,
    order_wire,
    shipping_info,
)
from .resources import SPECS
from .route_table import CHANNEL, Crud, Entry, Route, route
from .sync import ia_join, view_clause

__all__ = ["ROUTES"]

READ = ("list", "retrieve")
EDIT = ("list", "retrieve", "create", "update")
ITEM_OPS = ("list", "retrieve", "update")


async def updates(request: Request, *, table: str) -> Response:
    spec = SPECS[table]
    model = spec.model
    assert model is not None
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(
        request,
        sim.store,
        spec,
        joins=ia_join(cid, model),
        base=[(view_clause("updates"), []), ("t.channel = ?", [cid])],
    )


def changes_view(name: str, table: str) -> Route:
    """``{name}/updates/``: objects changed after their IA's ``version_date``. # [INF]"""
    assert SPECS[table].model is not None
    return route(f"{CHANNEL}/{name}/updates/", GET=partial(updates, table=table))


async def create(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return json_response(create_order(sim, cid, await read_json(request)), 201)


async def cancel(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    return json_response(cancel_order(sim, cid, int(request.path_params["obj_id"]), body))


async def by_number(request: Request) -> Response:
    sim = guard(request)
    rows = sim.store.select("orders", "t.number = ?", [request.path_params["number"]], limit=1)
    if not rows:
        raise not_found()
    return json_response(order_wire(sim, rows[0], with_items=True))


ROUTES: list[Entry] = [
    # cargos, locations and reasons are global data behind channel paths # [INF]
    Crud("cargos", "cargos", READ),
    *(Crud(name, name, READ) for name in ("countries", "cities", "townships", "districts")),
    Crud("customers", "customers", EDIT, before_write=customer_defaults),
    Crud("addresses", "addresses", EDIT, before_write=dedupe_address),
    Crud("cancellation_reasons", "cancellation_reasons", READ),
    Crud(
        "order_shipping_infos",
        "order_shipping_infos",
        ("list", "retrieve", "create"),
        before_write=shipping_info,
    ),
    Crud(
        "cancellation_requests",
        "cancellation_requests",
        EDIT,
        before_write=cancellation_request,
    ),
    changes_view("cancellation_requests", "cancellation_requests"),
    Crud("orders", "orders", ("list", "retrieve", "update"), scoped=False),  # merchant
    Crud("orders", "orders", READ),
    changes_view("orders", "orders"),
    route(f"{CHANNEL}/create_orders/", POST=create),
    route(f"{CHANNEL}/orders/{{obj_id:int}}/cancel/", POST=cancel),
    route(f"{API}/order_number/{{number:str}}/", GET=by_number),  # SDK retrieve # [INF]
    Crud("order_items", "order_items", ITEM_OPS, before_write=bump_order),
    Crud("order_items", "order_items", ITEM_OPS, scoped=False, before_write=bump_order),
]
