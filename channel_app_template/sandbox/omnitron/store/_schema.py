"""The SQLite schema the resource specs declare, and the rows every fresh state starts with.

Kept apart from the row operations: what the tables look like and what a reset puts back
are data about the simulator, not about reading and writing rows."""

# SQL here is built only from identifiers declared in resources.
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..resources import MODELS, SPECS, Spec

if TYPE_CHECKING:
    from ._rows import RowStore

DEFAULT_USERNAME = "sandbox"
DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - a local simulator's documented login
DEFAULT_CHANNEL_ID = 1
DEFAULT_CATALOG_ID = 1
EXTRA_MODELS = ("marketplaceattributeconfig",)  # not in the doc's list but used by configs # [INF]
MAX_INT = 2**63 - 1  # what one SQLite INTEGER holds

SQL_TYPES = {
    "int": "INTEGER",
    "fk": "INTEGER",
    "bool": "INTEGER",
    "str": "TEXT",
    "dec": "TEXT",
    "date": "TEXT",
    "json": "TEXT",
}


def columns(spec: Spec) -> list[str]:
    names = ["id", *(f.name for f in spec.fields)]
    if spec.dates:
        names += ["created_date", "modified_date"]
    return names


def quote(name: str) -> str:
    return f'"{name}"'


def schema_statements() -> list[str]:
    """``CREATE TABLE``/``INDEX`` for every spec, plus the simulator's own tables."""
    statements = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
        "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, username TEXT, "
        "created REAL, uses INTEGER DEFAULT 0)",
    ]
    for name, spec in SPECS.items():
        cols = ["id INTEGER PRIMARY KEY"]
        cols += [f"{quote(f.name)} {SQL_TYPES[f.kind]}" for f in spec.fields]
        if spec.dates:
            cols += ["created_date TEXT", "modified_date TEXT"]
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})")
        statements.append(f"DROP INDEX IF EXISTS ix_{name}__channel")  # a state file's old one
        indexed: list[tuple[str, ...]] = list(spec.indexes) + list(spec.uniques)
        # Not the channel: a simulator holds one or two, so its index matches nearly every row,
        # and SQLite (which keeps no statistics here) picked it over a selective one: every
        # new address counted all the channel's addresses for its hash_data (issue 13).
        indexed += [(f.name,) for f in spec.fields if f.kind == "fk" and f.name != "channel"]
        # named by their columns, so a state file from an older simulator gets the new ones
        for index_cols in dict.fromkeys(indexed):
            statements.append(
                f"CREATE INDEX IF NOT EXISTS ix_{name}__{'__'.join(index_cols)} ON {name} "
                f"({', '.join(quote(c) for c in index_cols)})"
            )
    statements.append(
        "CREATE UNIQUE INDEX IF NOT EXISTS ux_ia_object ON integration_actions "
        "(channel, model, object_id)"
    )
    statements.append(
        "CREATE TABLE IF NOT EXISTS sandbox_omit (tbl TEXT NOT NULL, obj_id INTEGER NOT NULL, "
        "keys TEXT NOT NULL, PRIMARY KEY (tbl, obj_id))"
    )
    return statements


def bootstrap(store: RowStore) -> None:
    """The default login, content types, price and stock lists, catalog and channel."""
    if store.meta("bootstrapped") == "1":
        return
    with store.tx():
        for model, app_label in (*MODELS, *((m, "channel") for m in EXTRA_MODELS)):
            store.insert("content_types", {"model": model, "app_label": app_label})
        store.insert("price_lists", {"name": "Default", "code": "default", "currency": "try"})
        store.insert("price_lists", {"name": "USD", "code": "usd", "currency": "usd"})
        store.insert("stock_lists", {"name": "Main warehouse", "code": "main"})
        store.insert("stock_lists", {"name": "Second warehouse", "code": "second"})
        store.insert(
            "catalogs",
            {
                "name": "Sandbox catalog",
                "price_list": 1,
                "stock_list": 1,
                "extra_price_lists": [2],
                "extra_stock_lists": [2],
            },
        )
        store.insert(
            "channels",
            {
                "name": "Sandbox channel",
                "catalog": DEFAULT_CATALOG_ID,
                # default conf values # [INF]
                "conf": {"remote_id_attribute": "sku", "token": "sandbox-channel-token"},
            },
        )
        store.set_meta("user", json.dumps([DEFAULT_USERNAME, DEFAULT_PASSWORD]))
        store.set_meta("bootstrapped", "1")
