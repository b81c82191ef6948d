"""Route tables: an API area lists its routes as data, the app installs them in order.

Why: handlers written as closures inside one ``register`` function cannot be read, tested or
reused on their own; a table of plain functions shows every URL and method of an area at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from .context import Sim
from .crud import API, Handler, add_crud, mount

__all__ = ["CHANNEL", "Crud", "Entry", "Route", "install", "route"]

CHANNEL = f"{API}/channel/{{cid:int}}"  # the prefix of every channel-scoped path


@dataclass(frozen=True)
class Route:
    """A path with its own handlers, by method (other methods answer DRF's 405)."""

    path: str
    handlers: Mapping[str, Handler]


def route(path: str, **handlers: Handler) -> Route:
    """``route(path, GET=h, POST=h2)``, as ``mount`` takes them."""
    return Route(path, handlers)


@dataclass(frozen=True)
class Crud:
    """The generic routes of ``add_crud`` for ``table`` at ``name`` (see ``crud.add_crud``)."""

    name: str
    table: str
    ops: tuple[str, ...]
    scoped: bool = True
    before_delete: Callable[[Sim, dict[str, Any]], None] | None = None


Entry = Route | Crud


def install(app: FastAPI, table: Iterable[Entry]) -> None:
    """Register a table's entries in order (Starlette matches the first route that fits)."""
    for entry in table:
        if isinstance(entry, Crud):
            add_crud(
                app,
                entry.name,
                entry.table,
                entry.ops,
                scoped=entry.scoped,
                before_delete=entry.before_delete,
            )
        else:
            mount(app, entry.path, **entry.handlers)
