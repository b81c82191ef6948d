"""Batch requests: a channel app's record of one sync run (create, read, PATCH its status)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..context import channel_of, guard
from ..http import json_response, list_response, read_json
from ..resources import SPECS
from ..route_table import CHANNEL, Entry, route
from ..sync import Batches

SPEC = SPECS["batch_requests"]


async def create(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        row = Batches(sim.store).create(cid, body)
    return json_response(sim.store.wire(SPEC, row), 201)


async def listing(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(request, sim.store, SPEC, base=[("t.channel = ?", [cid])])


async def retrieve(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    row = sim.store.require("batch_requests", int(request.path_params["obj_id"]), cid)
    return json_response(sim.store.wire(SPEC, row))


async def patch(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    row = Batches(sim.store).patch(cid, int(request.path_params["obj_id"]), body)
    return json_response(sim.store.wire(SPEC, row))


ROUTES: list[Entry] = [
    route(f"{CHANNEL}/batch_requests/", GET=listing, POST=create),
    route(f"{CHANNEL}/batch_requests/{{obj_id:int}}/", GET=retrieve, PATCH=patch),
]
