"""``auth/login/`` and ``active_user/``: the only routes reachable without a token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .auth import login
from .context import guard, sim_of
from .crud import API
from .http import json_response, read_json
from .route_table import Entry, route

__all__ = ["ROUTES"]


async def login_view(request: Request) -> Response:
    sim = sim_of(request)
    key = login(sim.store, sim.auth, await read_json(request))
    return json_response({"key": key})


async def active_user_view(request: Request) -> Response:
    guard(request)
    stored = sim_of(request).store.meta("user") or '["sandbox"]'
    username = stored.split('"')[1]
    # the user object's shape is not documented # [INF]
    return json_response(
        {
            "pk": 1,
            "username": username,
            "email": f"{username}@example.com",
            "first_name": "Sandbox",
            "last_name": "User",
        }
    )


ROUTES: list[Entry] = [
    route(f"{API}/auth/login/", POST=login_view),
    route(f"{API}/active_user/", GET=active_user_view),
]
