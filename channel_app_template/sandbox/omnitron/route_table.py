"""Omnitron's route tables: the shared ``Route`` entries plus ``Crud``, the generic routes of a
resource (``crud.add_crud``), so an area's table lists both kinds in registration order.

Why: handlers written as closures inside one ``register`` function cannot be read, tested or
reused on their own; a table of plain functions shows every URL and method of an area at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from channel_app_template.sandbox.common.route_table import Route, mount_route, route

from .context import Sim
from .crud import API, WriteHook, add_crud

__all__ = ["CHANNEL", "Crud", "Entry", "Route", "install", "route"]

CHANNEL = f"{API}/channel/{{cid:int}}"  # the prefix of every channel-scoped path


@dataclass(frozen=True)
class Crud:
    """The generic routes of ``add_crud`` for ``table`` at ``name`` (see ``crud.add_crud``)."""

    name: str
    table: str
    ops: tuple[str, ...]
    scoped: bool = True
    before_write: WriteHook | None = None
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
                before_write=entry.before_write,
                before_delete=entry.before_delete,
            )
        else:
            mount_route(app, entry)
