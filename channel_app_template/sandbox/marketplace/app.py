"""``create_app``: the reference marketplace as an ASGI app (served by uvicorn from the CLI)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channel_app_template.sandbox.common.errors import ApiError
from channel_app_template.sandbox.common.faults import FaultConfig, FaultMiddleware
from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.route_table import Route, install

from . import (
    routes_catalog,
    routes_orders,
    routes_products,
    routes_sandbox,
    routes_sandbox_orders,
)
from .context import DEFAULT_API_KEY, Market
from .errors import error_body, fault_body
from .ratelimit import RateLimiter
from .store import DEFAULT_BATCH_DELAY, MarketStore

DEFAULT_RATE_LIMIT = 50.0
DEFAULT_RATE_BURST = 100

# every route of the marketplace, in the order Starlette tries them
ROUTES: list[Route] = [
    *routes_catalog.ROUTES,
    *routes_products.ROUTES,
    *routes_orders.ROUTES,
    *routes_sandbox_orders.ROUTES,
    *routes_sandbox.ROUTES,
]


def create_app(
    state_path: str,
    *,
    faults: FaultConfig | None = None,
    api_keys: Sequence[str] = (DEFAULT_API_KEY,),
    seed: int = 0,
    batch_delay: float = DEFAULT_BATCH_DELAY,
    rate_limit: float = DEFAULT_RATE_LIMIT,
    rate_burst: int = DEFAULT_RATE_BURST,
    clock: Callable[[], float] = time.time,
) -> ASGIApp:
    """Build the marketplace on the SQLite file ``state_path`` (``":memory:"`` for unit tests).

    ``clock`` (seconds; wall time by default) drives batch delays, timestamps and the rate
    limiter, so unit tests can move time by hand. Returns the fault middleware wrapping the
    FastAPI app (through the rate-limit header layer); ``market_from`` reaches its
    ``state.market``: store, faults, rate limiter and API keys.
    """
    store = MarketStore(state_path, seed=seed, batch_delay=batch_delay, clock=clock)
    market = Market(
        store=store,
        faults=faults or FaultConfig(),
        limiter=RateLimiter(rate=rate_limit, burst=rate_burst, clock=clock),
        api_keys=tuple(api_keys) or (DEFAULT_API_KEY,),
        defaults={
            "batch_delay_seconds": batch_delay,
            "rate_limit": rate_limit,
            "rate_burst": rate_burst,
        },
    )
    app = FastAPI(
        title="Reference marketplace",
        redirect_slashes=False,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
    )
    app.state.market = market

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return json_response(exc.body, exc.status, exc.headers)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> Response:
        return json_response(error_body("invalid_request", str(exc)), 400)

    @app.exception_handler(404)
    async def no_route(_: Request, exc: Exception) -> Response:
        return json_response(error_body("not_found", "No such path."), 404)

    install(app, ROUTES)
    return FaultMiddleware(RateLimitHeaders(app), market.faults, error_body=fault_body)


class RateLimitHeaders:
    """Adds ``X-RateLimit-Limit``/``-Remaining`` (set by the guard) to successful answers,
    so a client can pace itself before it meets a 429."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra and message["status"] != 429:
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def market_from(asgi: Any) -> Market:
    """The ``Market`` behind an app returned by ``create_app`` (for in-process tests)."""
    market: Market = asgi.app.app.state.market
    return market
