"""Plain Starlette routes dispatching on method: no FastAPI dependency injection per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .http import json_response

Handler = Callable[[Request], Awaitable[Response]]
NotAllowed = Callable[[str], Response]


def drf_not_allowed(method: str) -> Response:
    return json_response({"detail": f'Method "{method}" not allowed.'}, 405)


def mount_methods(
    app: FastAPI,
    path: str,
    handlers: dict[str, Handler],
    not_allowed: NotAllowed = drf_not_allowed,
) -> None:
    """One route per path, dispatching on method; ``not_allowed`` answers the other methods."""
    if not handlers:
        return

    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            return not_allowed(request.method)
        return await handler(request)

    app.add_route(path, dispatch, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])


def mount(app: FastAPI, path: str, **handlers: Handler) -> None:
    """Register custom handlers by method name: ``mount(app, p, GET=h, POST=h2)``."""
    mount_methods(app, path, dict(handlers))
