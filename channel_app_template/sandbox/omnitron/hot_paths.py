"""A short way in for the paths a catalog sync calls thousands of times.

Why: behind FastAPI every request walks Starlette's middleware stack and tries the simulator's
routes one by one; for ``mapped_products/{pk}/`` that cost more CPU than the answer itself.
``HotPaths`` sends the hot paths straight to the endpoint FastAPI would have chosen (the same
installed ``Route``: its regex, convertors and method dispatch) and maps exceptions with the
app's own exception handlers; every other request goes through FastAPI unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from .route_table import CHANNEL

__all__ = ["HOT_TEMPLATES", "HotPaths"]

Endpoint = Callable[[Request], Awaitable[Response]]

_PENDING = [
    f"{CHANNEL}/{name}/{view}/"
    for name in (
        "products",
        "product_prices",
        "product_stocks",
        "product_images",
        "extra_product_prices",
        "extra_product_stocks",
    )
    for view in ("inserts", "updates", "inserts_or_updates")
]
HOT_TEMPLATES: tuple[str, ...] = (
    f"{CHANNEL}/mapped_products/{{obj_id:int}}/",
    *_PENDING,
    f"{CHANNEL}/batch_requests/",
    f"{CHANNEL}/batch_requests/{{obj_id:int}}/",
    f"{CHANNEL}/integration_actions/",
    f"{CHANNEL}/products/",
    # order ingestion: a customer, its address(es) and the order, per order
    f"{CHANNEL}/customers/",
    f"{CHANNEL}/addresses/",
    f"{CHANNEL}/create_orders/",
    f"{CHANNEL}/orders/",
)
HOT_METHODS = frozenset({"GET", "POST", "PATCH"})


def _sample(route: Route) -> str:
    """A concrete path of ``route`` (every parameter 1), to check which route wins it."""
    path = route.path
    for name in route.param_convertors:
        path = path.replace(f"{{{name}:int}}", "1")
    return path


class HotPaths:
    """An ASGI app in front of ``app``; attributes it lacks are the wrapped app's (``routes``,
    ``state``), so code that introspects the FastAPI app keeps working."""

    def __init__(self, app: FastAPI, templates: Iterable[str] = HOT_TEMPLATES) -> None:
        self.app = app
        self.hot: list[Route] = []
        wanted = set(templates)
        routes = [r for r in app.routes if isinstance(r, Route)]
        for candidate in routes:
            if candidate.path not in wanted:
                continue
            if set(candidate.param_convertors) - {"cid", "obj_id"}:
                continue
            sample = {"type": "http", "path": _sample(candidate), "method": "GET"}
            first = next((r for r in routes if r.matches(sample)[0] is Match.FULL), None)
            if first is candidate:  # no earlier route would take these paths
                self.hot.append(candidate)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in HOT_METHODS
            and not scope.get("root_path")
        ):
            path = scope["path"]
            for candidate in self.hot:
                found = candidate.path_regex.match(path)
                if found is None:
                    continue
                params = dict(scope.get("path_params", {}))
                for name, text in found.groupdict().items():
                    params[name] = candidate.param_convertors[name].convert(text)
                scope["app"] = self.app
                scope["router"] = self.app.router
                scope["endpoint"] = candidate.endpoint
                scope["path_params"] = params
                await self._serve(candidate.endpoint, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Any:
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None
