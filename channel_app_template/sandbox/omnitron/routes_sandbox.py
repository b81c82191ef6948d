"""Simulator-only routes under ``/_sandbox/``: inspection, reset, seeding, faults, tokens,
the channel's ``conf``, and deliberately malformed rows (``raw/``) for bad-data tests.

They need no Omnitron token, so the simulator must only listen on loopback (the CLI binds
127.0.0.1 by default). Inspection routes never change state; the others are explicit controls.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.channel_conf import MAX_CONF_BYTES

from .context import sim_of
from .errors import ApiError, not_found
from .http import json_response, list_response, read_json
from .orders import order_wire
from .resources import SPECS
from .route_table import Entry, route
from .routes_catalog import ia_serializer
from .seed import seed_catalog

__all__ = ["PREFIX", "ROUTES"]

PREFIX = "/_sandbox"
MAX_CONTROL_BYTES = 2 * 1024 * 1024
MAX_OMIT = 50


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def counts(request: Request) -> Response:
    return json_response(sim_of(request).store.counts())


async def order_by_number(request: Request) -> Response:
    sim = sim_of(request)
    rows = sim.store.select("orders", "t.number = ?", [request.path_params["number"]])
    if not rows:
        raise not_found()
    out = order_wire(sim, rows[0], with_items=True)
    out["integration_actions"] = [
        ia_serializer(sim)(r)
        for r in sim.store.select(
            "integration_actions",
            "(t.model = 'order' AND t.object_id = ?) OR (t.model = 'orderitem' AND "
            't.object_id IN (SELECT id FROM order_items WHERE "order" = ?))',
            [rows[0]["id"], rows[0]["id"]],
        )
    ]
    out["count_with_number"] = len(rows)
    return json_response(out)


async def batch_requests(request: Request) -> Response:
    sim = sim_of(request)
    return list_response(request, sim.store, SPECS["batch_requests"])


async def integration_actions(request: Request) -> Response:
    sim = sim_of(request)
    return list_response(
        request, sim.store, SPECS["integration_actions"], serializer=ia_serializer(sim)
    )


async def reset(request: Request) -> Response:
    """Wipe all data (and tokens), bootstrap again; ``{"seed_products": N}`` reseeds."""
    sim = sim_of(request)
    body = await read_json(request)
    sim.store.reset()
    sim.faults.clear()
    products = int(body.get("seed_products", 0)) if isinstance(body, dict) else 0
    seed_catalog(sim.store, products)
    return json_response(sim.store.counts())


async def seed(request: Request) -> Response:
    sim = sim_of(request)
    body = await read_json(request)
    products = int(body.get("products", 0)) if isinstance(body, dict) else 0
    created = seed_catalog(sim.store, products)
    return json_response({"created": created, "counts": sim.store.counts()})


async def get_faults(request: Request) -> Response:
    return json_response(_faults_state(request))


async def set_faults(request: Request) -> Response:
    """``{"latency_ms", "seed", "rules": [...], "replace": bool}``; rules are appended
    unless ``replace`` is true."""
    sim = sim_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, {"detail": "Expected an object."})
    sim.faults.update(body)  # ValueError -> 400, nothing changed
    _auth_settings(sim, body)
    return json_response(_faults_state(request))


async def clear_faults(request: Request) -> Response:
    sim = sim_of(request)
    sim.faults.clear()
    sim.auth.token_ttl_seconds = None
    sim.auth.token_max_uses = None
    sim.auth.login_limit = None
    return json_response(_faults_state(request))


async def add_rule(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, {"detail": "Expected an object."})
    return json_response(sim_of(request).faults.add(body).as_dict(), 201)


async def delete_rule(request: Request) -> Response:
    if not sim_of(request).faults.remove(int(request.path_params["rule_id"])):
        raise not_found()
    return Response(status_code=204)


async def expire_tokens(request: Request) -> Response:
    return json_response({"revoked": sim_of(request).store.revoke_tokens()})


async def get_conf(request: Request) -> Response:
    sim = sim_of(request)
    channel = sim.store.require("channels", int(request.path_params["cid"]))
    return json_response(channel["conf"])


async def put_conf(request: Request) -> Response:
    """Replace the channel's ``conf`` (as the merchant's settings form does); the
    channel's ``modified_date`` moves."""
    return json_response(_write_conf(sim_of(request), request, await _conf_body(request)))


async def patch_conf(request: Request) -> Response:
    """Merge keys into ``conf``; a key sent as null is removed."""
    sim = sim_of(request)
    changes = await _conf_body(request)
    channel = sim.store.require("channels", int(request.path_params["cid"]))
    current = channel["conf"] if isinstance(channel["conf"], dict) else {}
    merged = {**current, **changes}
    return json_response(
        _write_conf(sim, request, {k: v for k, v in merged.items() if v is not None})
    )


async def raw_create(request: Request) -> Response:
    sim = sim_of(request)
    table = _raw_table(request)
    values, omit, _ = await _raw_body(request)
    obj_id = sim.store.raw_write(table, None, values, omit, touch=True)
    return json_response(_raw_view(sim, table, obj_id), 201)


async def raw_get(request: Request) -> Response:
    sim = sim_of(request)
    table = _raw_table(request)
    return json_response(_raw_view(sim, table, int(request.path_params["obj_id"])))


async def raw_patch(request: Request) -> Response:
    sim = sim_of(request)
    table = _raw_table(request)
    values, omit, touch = await _raw_body(request)
    obj_id = int(request.path_params["obj_id"])
    sim.store.raw_write(table, obj_id, values, omit, touch=touch)
    return json_response(_raw_view(sim, table, obj_id))


async def _conf_body(request: Request) -> dict[str, Any]:
    body = await read_json(request, limit=MAX_CONF_BYTES)
    if not isinstance(body, dict):
        raise ApiError(400, {"detail": "channel.conf is a JSON object."})
    return body


def _write_conf(sim: Any, request: Request, conf: dict[str, Any]) -> dict[str, Any]:
    cid = int(request.path_params["cid"])
    with sim.store.tx():
        sim.store.require("channels", cid)
        channel = sim.store.update("channels", cid, {"conf": conf})
    conf_out: dict[str, Any] = channel["conf"]
    return conf_out


def _raw_table(request: Request) -> str:
    table = str(request.path_params["table"])
    if table not in SPECS:
        raise ApiError(404, {"detail": f"No table {table!r}; one of {sorted(SPECS)}."})
    return table


async def _raw_body(request: Request) -> tuple[dict[str, Any], list[str] | None, bool]:
    """``{"values": {column: any JSON}, "omit": [wire keys], "touch": true}``."""
    body = await read_json(request, limit=MAX_CONTROL_BYTES)
    if not isinstance(body, dict) or set(body) - {"values", "omit", "touch"}:
        raise ApiError(400, {"detail": 'Expected {"values": {...}, "omit": [...], "touch": bool}.'})
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise ApiError(400, {"values": ["An object of column: value."]})
    omit = body.get("omit")
    if omit is not None and (
        not isinstance(omit, list)
        or len(omit) > MAX_OMIT
        or not all(isinstance(k, str) and 0 < len(k) <= 200 for k in omit)
    ):
        raise ApiError(400, {"omit": [f"A list of at most {MAX_OMIT} key names."]})
    touch = body.get("touch", True)
    if not isinstance(touch, bool):
        raise ApiError(400, {"touch": ["Must be a valid boolean."]})
    return values, omit, touch


def _raw_view(sim: Any, table: str, obj_id: int) -> dict[str, Any]:
    """What is stored, and what the API serves for it (``served``)."""
    view: dict[str, Any] = sim.store.raw_row(table, obj_id)
    record = sim.store.get(table, obj_id)
    view["served"] = None if record is None else sim.store.wire(SPECS[table], record)
    return view


def _auth_settings(sim: Any, body: dict[str, Any]) -> None:
    for name in ("token_ttl_seconds", "token_max_uses", "login_limit"):
        if name in body:
            value = body[name]
            setattr(
                sim.auth,
                name,
                None
                if value is None
                else (float(value) if name == "token_ttl_seconds" else int(value)),
            )


def _faults_state(request: Request) -> dict[str, Any]:
    sim = sim_of(request)
    return {
        **sim.faults.as_dict(),
        "token_ttl_seconds": sim.auth.token_ttl_seconds,
        "token_max_uses": sim.auth.token_max_uses,
        "login_limit": sim.auth.login_limit,
    }


ROUTES: list[Entry] = [
    route(f"{PREFIX}/health/", GET=health),
    route(f"{PREFIX}/counts/", GET=counts),
    route(f"{PREFIX}/orders/{{number:str}}/", GET=order_by_number),
    route(f"{PREFIX}/batch_requests/", GET=batch_requests),
    route(f"{PREFIX}/integration_actions/", GET=integration_actions),
    route(f"{PREFIX}/reset/", POST=reset),
    route(f"{PREFIX}/seed/", POST=seed),
    route(f"{PREFIX}/faults/", GET=get_faults, POST=set_faults, DELETE=clear_faults),
    route(f"{PREFIX}/faults/rules/", POST=add_rule),
    route(f"{PREFIX}/faults/rules/{{rule_id:int}}/", DELETE=delete_rule),
    route(f"{PREFIX}/tokens/expire/", POST=expire_tokens),
    route(f"{PREFIX}/channels/{{cid:int}}/conf/", GET=get_conf, PUT=put_conf, PATCH=patch_conf),
    route(f"{PREFIX}/raw/{{table:str}}/", POST=raw_create),
    route(f"{PREFIX}/raw/{{table:str}}/{{obj_id:int}}/", GET=raw_get, PATCH=raw_patch),
]
