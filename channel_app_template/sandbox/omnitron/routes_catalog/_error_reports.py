"""Error reports: what a channel app reports as failed, and the location mapping tasks
(``error_reports/{country|city|...}/``) that echo their fields back."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Sim, channel_of, guard
from ..errors import ApiError, not_found
from ..http import json_response, list_response, read_json
from ..resources import SPECS
from ..route_table import CHANNEL, Entry, route
from ..sync import content_type_id

SPEC = SPECS["error_reports"]
LOCATION_REPORTS = frozenset({"country", "city", "township", "district", "distinct"})


def wire(sim: Sim, row: dict[str, Any]) -> dict[str, Any]:
    out = sim.store.wire(SPEC, row)
    out["action"] = {
        "content_type": row["action_content_type"],
        "object_id": row["action_object_id"],
    }
    out["target"] = {
        "content_type": row["target_content_type"],
        "object_id": row["target_object_id"],
    }
    return out


async def create(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        values = sim.store.validate(SPEC, body, partial=False)
        values["channel"] = cid
        if values.get("target_content_type") is None:
            values["target_content_type"] = content_type_id(sim.store, "channel")
            values.setdefault("target_object_id", cid)
        if values.get("target_object_id") is None:
            values["target_object_id"] = cid
        row = sim.store.insert("error_reports", values)
    return json_response(wire(sim, row), 201)


async def create_location(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    kind = request.path_params["kind"]
    if kind not in LOCATION_REPORTS:
        raise not_found()
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    row = sim.store.insert(
        "error_reports",
        {
            "channel": cid,
            "type": str(body.get("type") or kind),
            "extra": body,
            "error_code": body.get("err_code"),
            "error_desc": body.get("err_desc"),
            "is_ok": False,
        },
    )
    out = wire(sim, row)
    out.update(body)  # echo the mapping-task fields back # [INF]
    return json_response(out, 201)


async def listing(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(
        request,
        sim.store,
        SPEC,
        base=[("t.channel = ?", [cid])],
        serializer=lambda r: wire(sim, r),
    )


ROUTES: list[Entry] = [
    route(f"{CHANNEL}/error_reports/", GET=listing, POST=create),
    route(f"{CHANNEL}/error_reports/{{kind:str}}/", POST=create_location),
]
