"""Integration actions: which channel object stands for which Omnitron object (CRUD), and
``deleted/``, the actions whose object is gone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..context import channel_of, guard
from ..http import json_response, list_response, read_json
from ..resources import SPECS
from ..route_table import CHANNEL, Entry, route
from ..sync import deleted_clause
from ._ia_wire import ia_clash, ia_page_serializer, ia_serializer, ia_values

SPEC = SPECS["integration_actions"]


async def create(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        values = ia_values(sim, cid, body, partial=False)
        ia_clash(sim, cid, values, None)
        # a hand-made IA with a remote id counts as synced # [INF]
        values.setdefault("status", "success" if values.get("remote_id") else None)
        row = sim.store.insert("integration_actions", values)
    return json_response(ia_serializer(sim)(row), 201)


async def listing(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(
        request,
        sim.store,
        SPEC,
        base=[("t.channel = ?", [cid])],
        page_serializer=ia_page_serializer(sim),
    )


async def retrieve(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
    return json_response(ia_serializer(sim)(row))


async def patch(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
        values = ia_values(sim, cid, body, partial=True)
        merged = {**row, **values}
        ia_clash(sim, cid, merged, row["id"])
        row = sim.store.update("integration_actions", row["id"], values)
    return json_response(ia_serializer(sim)(row))


async def delete(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    with sim.store.tx():
        row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
        sim.store.delete("integration_actions", row["id"])
    return Response(status_code=204)


async def deleted(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    params = request.query_params
    models = (
        params.getlist("model")
        or params.getlist("content_type_name")
        or ["product", "productprice", "productstock", "productimage"]
    )
    return list_response(
        request,
        sim.store,
        SPEC,
        skip=frozenset({"model", "content_type_name", "channel_id"}),
        base=[("t.channel = ?", [cid]), (deleted_clause(models), [])],
        page_serializer=ia_page_serializer(sim),
    )


BASE = f"{CHANNEL}/integration_actions/"

ROUTES: list[Entry] = [
    route(BASE, GET=listing, POST=create),
    route(BASE + "{obj_id:int}/", GET=retrieve, PATCH=patch, DELETE=delete),
    route(BASE + "deleted/", GET=deleted),
]
