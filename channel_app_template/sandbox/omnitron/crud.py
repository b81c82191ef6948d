"""Generic list/retrieve/create/PATCH/DELETE routes for resources that need no special rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.routing import Handler, mount, mount_methods as _mount

from .context import Sim, channel_of, guard
from .http import Serializer, json_response, list_response, read_json
from .resources import SPECS

__all__ = ["API", "Handler", "WriteHook", "add_crud", "collection_path", "mount"]

API = "/api/v1"
SerializerFactory = Callable[[Sim], Serializer]
WriteHook = Callable[[Sim, int | None, dict[str, Any], Any, dict[str, Any] | None], dict[str, Any]]


def collection_path(name: str, scoped: bool) -> str:
    return f"{API}/channel/{{cid:int}}/{name}/" if scoped else f"{API}/{name}/"


def add_crud(
    app: FastAPI,
    name: str,
    table: str,
    ops: Iterable[str],
    *,
    scoped: bool = True,
    serializer: SerializerFactory | None = None,
    before_write: WriteHook | None = None,
    base_filter: Callable[[Sim, int | None], list[tuple[str, list[Any]]]] | None = None,
    before_delete: Callable[[Sim, dict[str, Any]], None] | None = None,
) -> None:
    """Register ``ops`` (list, retrieve, create, update, replace, delete) for ``table`` at
    ``name``: ``update`` is PATCH (partial), ``replace`` is PUT (every required field).

    ``before_write(sim, cid, values, body, existing)`` may refuse (raise) or adjust values.
    """
    spec = SPECS[table]
    coll = collection_path(name, scoped)
    detail = coll + "{obj_id:int}/"
    ops = set(ops)

    def ctx(request: Request) -> tuple[Sim, int | None]:
        sim = guard(request)
        return sim, channel_of(request, sim) if scoped else None

    def ser(sim: Sim) -> Serializer:
        return serializer(sim) if serializer else (lambda r: sim.store.wire(spec, r))

    def fetch(sim: Sim, cid: int | None, request: Request) -> dict[str, Any]:
        return sim.store.require(table, int(request.path_params["obj_id"]), cid)

    def scope(sim: Sim, cid: int | None) -> list[tuple[str, list[Any]]]:
        clauses = base_filter(sim, cid) if base_filter else []
        if cid is not None and spec.channel_scoped:
            clauses.append(("t.channel = ?", [cid]))
        return clauses

    async def list_view(request: Request) -> Response:
        sim, cid = ctx(request)
        # no custom serializer: the JSON fast path (rows encoded in SQL, no decode and re-encode)
        custom = serializer(sim) if serializer else None
        return list_response(request, sim.store, spec, base=scope(sim, cid), serializer=custom)

    async def create_view(request: Request) -> Response:
        sim, cid = ctx(request)
        body = await read_json(request)
        with sim.store.tx():
            values = sim.store.validate(spec, body, partial=False)
            if cid is not None and spec.channel_scoped:
                values["channel"] = cid
            if before_write:
                values = before_write(sim, cid, values, body, None)
            sim.store.check_unique(spec, values)
            record = sim.store.insert(table, values)
        return json_response(ser(sim)(record), 201)

    async def retrieve_view(request: Request) -> Response:
        sim, cid = ctx(request)
        return json_response(ser(sim)(fetch(sim, cid, request)))

    async def update_view(request: Request) -> Response:
        return await write_view(request, partial=True)

    async def replace_view(request: Request) -> Response:
        return await write_view(request, partial=False)

    async def write_view(request: Request, *, partial: bool) -> Response:
        sim, cid = ctx(request)
        body = await read_json(request)
        with sim.store.tx():
            existing = fetch(sim, cid, request)
            values = sim.store.validate(spec, body, partial=partial)
            if before_write:
                values = before_write(sim, cid, values, body, existing)
            sim.store.check_unique(spec, {**existing, **values}, exclude_id=existing["id"])
            record = sim.store.update(table, existing["id"], values)
        return json_response(ser(sim)(record))

    async def delete_view(request: Request) -> Response:
        sim, cid = ctx(request)
        with sim.store.tx():
            existing = fetch(sim, cid, request)
            if before_delete:
                before_delete(sim, existing)
            sim.store.delete(table, existing["id"])
        return Response(status_code=204)

    coll_methods = {"list": ("GET", list_view), "create": ("POST", create_view)}
    detail_methods = {
        "retrieve": ("GET", retrieve_view),
        "update": ("PATCH", update_view),
        "replace": ("PUT", replace_view),
        "delete": ("DELETE", delete_view),
    }
    _mount(app, coll, {m: h for op, (m, h) in coll_methods.items() if op in ops})
    _mount(app, detail, {m: h for op, (m, h) in detail_methods.items() if op in ops})
