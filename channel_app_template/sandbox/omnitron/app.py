"""``create_app``: the Omnitron simulator as an ASGI app (served by uvicorn from the CLI)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from channel_app_template.sandbox.common.faults import FaultConfig, FaultMiddleware

from . import routes_auth, routes_catalog, routes_merchant, routes_orders, routes_sandbox
from .auth import AuthPolicy
from .context import Sim
from .errors import ApiError
from .hot_paths import HotPaths
from .http import json_response
from .route_table import Entry, install
from .store import Store

# every route of the simulator, in the order Starlette tries them
ROUTES: list[Entry] = [
    *routes_auth.ROUTES,
    *routes_catalog.ROUTES,
    *routes_merchant.ROUTES,
    *routes_orders.ROUTES,
    *routes_sandbox.ROUTES,
]


def create_app(
    state_path: str,
    *,
    faults: FaultConfig | None = None,
    auth: AuthPolicy | None = None,
    seed: int = 0,
) -> ASGIApp:
    """Build the simulator on the SQLite file ``state_path`` (``":memory:"`` for unit tests).

    Returns the fault middleware wrapping the FastAPI app (behind ``HotPaths``, which answers
    for it at ``.app``: ``.app.state.sim`` holds store, auth policy and faults).
    """
    store = Store(state_path, seed=seed)
    sim = Sim(store=store, auth=auth or AuthPolicy(), faults=faults or FaultConfig())
    app = FastAPI(
        title="Omnitron simulator",
        redirect_slashes=False,  # a path without its trailing slash is a 404 # [INF]
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
    )
    app.state.sim = sim

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return json_response(exc.body, exc.status, exc.headers)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> Response:
        return json_response({"detail": str(exc)}, 400)

    install(app, ROUTES)
    return FaultMiddleware(HotPaths(app), sim.faults)


def sim_from(asgi: Any) -> Sim:
    """The ``Sim`` behind an app returned by ``create_app`` (for in-process tests)."""
    sim: Sim = asgi.app.state.sim
    return sim
