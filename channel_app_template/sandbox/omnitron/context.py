"""The per-app simulator state (no module globals): store, auth policy and fault settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from channel_app_template.sandbox.common.faults import FaultConfig

from .auth import AuthPolicy, authenticate
from .errors import ApiError, not_found
from .store import Store


@dataclass
class Sim:
    store: Store
    auth: AuthPolicy
    faults: FaultConfig


def sim_of(request: Request) -> Sim:
    sim: Sim = request.app.state.sim
    return sim


def guard(request: Request) -> Sim:
    """Authenticate an ``/api/`` call and hand back the simulator."""
    sim = sim_of(request)
    authenticate(sim.store, sim.auth, request)
    return sim


def channel_of(request: Request, sim: Sim) -> int:
    """The ``{cid}`` of a channel-scoped path; 404 when no such channel exists."""
    cid = int(request.path_params["cid"])
    if not sim.store.exists("channels", cid):
        raise not_found()
    return cid


def catalog_of(sim: Sim, cid: int) -> dict[str, Any]:
    """The catalog of channel ``cid``; 406 (as Omnitron answers) when it has none."""
    channel = sim.store.require("channels", cid)
    catalog = sim.store.get("catalogs", int(channel["catalog"] or 0))
    if catalog is None:
        raise ApiError(406, {"error": "Channel has no catalog."})
    return catalog
