"""The channel-scoped list handlers shared by products, prices, stocks and images: the
``inserts``/``updates``/``inserts_or_updates`` change views and the price/stock lists of a
channel's catalog (its default list, or its ``extra_*`` lists)."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Sim, catalog_of, channel_of, guard
from ..http import json_response, list_response
from ..resources import SPECS
from ..route_table import CHANNEL, Route, route
from ..sync import ia_join, product_sent_clause, view_clause


def catalog_scope(
    sim: Sim, cid: int, list_key: str | None, extra: bool
) -> list[tuple[str, list[Any]]]:
    """Prices/stocks of the catalog's default list, or of its extra lists (``extra_*``)."""
    if list_key is None:
        return []
    catalog = catalog_of(sim, cid)
    if not extra:
        return [(f"t.{list_key} = ?", [catalog[list_key]])]
    lists = [int(x) for x in catalog[f"extra_{list_key}s"] or []]
    if not lists:
        return [("0=1", [])]
    return [(f"t.{list_key} IN ({','.join('?' * len(lists))})", lists)]


async def changes(
    request: Request, *, table: str, view: str, list_key: str | None, extra: bool
) -> Response:
    spec = SPECS[table]
    model = spec.model
    assert model is not None
    sim = guard(request)
    cid = channel_of(request, sim)
    base = [(view_clause(view), []), *catalog_scope(sim, cid, list_key, extra)]
    if table != "products":
        base.append((product_sent_clause(cid), []) if view != "updates" else ("1=1", []))
    return list_response(request, sim.store, spec, base=base, joins=ia_join(cid, model))


def change_view(
    name: str, table: str, view: str, *, list_key: str | None = None, extra: bool = False
) -> Route:
    """``{name}/{inserts|updates|inserts_or_updates}/`` of a channel's catalog."""
    assert SPECS[table].model is not None
    handler = partial(changes, table=table, view=view, list_key=list_key, extra=extra)
    return route(f"{CHANNEL}/{name}/{view}/", GET=handler)


async def scoped_list(request: Request, *, table: str, key: str, extra: bool) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(request, sim.store, SPECS[table], base=catalog_scope(sim, cid, key, extra))


async def scoped_retrieve(request: Request, *, table: str) -> Response:
    sim = guard(request)
    channel_of(request, sim)
    row = sim.store.require(table, int(request.path_params["obj_id"]))
    return json_response(sim.store.wire(SPECS[table], row))


def scoped_lists(name: str, table: str, key: str, *, extra: bool) -> list[Route]:
    """``{name}/`` and ``{name}/{id}/`` of the catalog's price or stock lists."""
    return [
        route(f"{CHANNEL}/{name}/", GET=partial(scoped_list, table=table, key=key, extra=extra)),
        route(f"{CHANNEL}/{name}/{{obj_id:int}}/", GET=partial(scoped_retrieve, table=table)),
    ]
