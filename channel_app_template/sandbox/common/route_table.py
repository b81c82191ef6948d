"""Route tables: an API area lists its routes as data, the app installs them in order.

Why: handlers written as closures inside one ``register`` function cannot be read, tested or
reused on their own; a table of plain functions shows every URL and method of an area at once.
Both simulators share this shape; each adds what only it has (Omnitron's generic CRUD entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fastapi import FastAPI

from .routing import Handler, NotAllowed, drf_not_allowed, mount_methods

__all__ = ["Route", "install", "mount_route", "route"]


@dataclass(frozen=True)
class Route:
    """A path with its own handlers, by method; ``not_allowed`` answers the other methods."""

    path: str
    handlers: Mapping[str, Handler]
    not_allowed: NotAllowed = drf_not_allowed


def route(path: str, **handlers: Handler) -> Route:
    """``route(path, GET=h, POST=h2)``; other methods answer DRF's 405."""
    return Route(path, handlers)


def mount_route(app: FastAPI, entry: Route) -> None:
    mount_methods(app, entry.path, dict(entry.handlers), entry.not_allowed)


def install(app: FastAPI, table: Iterable[Route]) -> None:
    """Register a table's routes in order (Starlette matches the first route that fits)."""
    for entry in table:
        mount_route(app, entry)
