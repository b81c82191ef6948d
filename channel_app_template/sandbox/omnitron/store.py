"""SQLite persistence for the simulator: schema from ``resources.SPECS`` plus generic CRUD.

One connection, serialized by a lock: the app runs in one uvicorn process and every query is
short, so this is faster than a pool and keeps writes atomic. WAL + ``synchronous=NORMAL`` keep
commits cheap; the file survives restarts, which is the point of ``--state``.
"""

# SQL here is built only from identifiers declared in resources.py; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from random import Random
from typing import Any

from .errors import ApiError, not_found
from .resources import MODELS, SPECS, Field, Spec
from .timeutil import Clock, parse_datetime, parse_decimal

DEFAULT_USERNAME = "sandbox"
DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - a local simulator's documented login
DEFAULT_CHANNEL_ID = 1
DEFAULT_CATALOG_ID = 1
EXTRA_MODELS = ("marketplaceattributeconfig",)  # not in the doc's list but used by configs # [INF]

_SQL_TYPES = {
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


def _q(name: str) -> str:
    return f'"{name}"'


class Store:
    """All simulator state. Methods raise ``ApiError`` for anything a client did wrong."""

    def __init__(self, path: str, *, seed: int = 0) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.clock = Clock()
        self.random = Random(seed)
        self._tokens: dict[str, list[float]] = {}
        self._encoders: dict[str, list[tuple[int, str, Any]]] = {}
        self._counts: dict[tuple[Any, ...], int] = {}
        self.generation = 0  # bumped by every committed write; keys the count cache
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "temp_store=MEMORY",
            "cache_size=-65536",
            "foreign_keys=OFF",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self._select = {
            name: ", ".join(f"t.{_q(c)}" for c in columns(spec)) for name, spec in SPECS.items()
        }
        self._create_schema()
        self._bootstrap()
        row = self.conn.execute("SELECT max(modified_date) FROM products").fetchone()
        if row and row[0]:
            self.clock.observe(row[0])

    # ----------------------------------------------------------------- schema and bootstrap
    def _create_schema(self) -> None:
        statements = [
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, username TEXT, "
            "created REAL, uses INTEGER DEFAULT 0)",
        ]
        for name, spec in SPECS.items():
            cols = ["id INTEGER PRIMARY KEY"]
            cols += [f"{_q(f.name)} {_SQL_TYPES[f.kind]}" for f in spec.fields]
            if spec.dates:
                cols += ["created_date TEXT", "modified_date TEXT"]
            statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})")
            indexed: list[tuple[str, ...]] = list(spec.indexes) + list(spec.uniques)
            indexed += [(f.name,) for f in spec.fields if f.kind == "fk"]
            for number, index_cols in enumerate(dict.fromkeys(indexed)):
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS ix_{name}_{number} ON {name} "
                    f"({', '.join(_q(c) for c in index_cols)})"
                )
        statements.append(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_ia_object ON integration_actions "
            "(channel, model, object_id)"
        )
        with self.tx():
            for statement in statements:
                self.conn.execute(statement)

    def _bootstrap(self) -> None:
        if self.meta("bootstrapped") == "1":
            return
        with self.tx():
            for model, app_label in (*MODELS, *((m, "channel") for m in EXTRA_MODELS)):
                self.insert("content_types", {"model": model, "app_label": app_label})
            self.insert("price_lists", {"name": "Default", "code": "default", "currency": "try"})
            self.insert("price_lists", {"name": "USD", "code": "usd", "currency": "usd"})
            self.insert("stock_lists", {"name": "Main warehouse", "code": "main"})
            self.insert("stock_lists", {"name": "Second warehouse", "code": "second"})
            self.insert(
                "catalogs",
                {
                    "name": "Sandbox catalog",
                    "price_list": 1,
                    "stock_list": 1,
                    "extra_price_lists": [2],
                    "extra_stock_lists": [2],
                },
            )
            self.insert(
                "channels",
                {
                    "name": "Sandbox channel",
                    "catalog": DEFAULT_CATALOG_ID,
                    # default conf values # [INF]
                    "conf": {"remote_id_attribute": "sku", "token": "sandbox-channel-token"},
                },
            )
            self.set_meta("user", json.dumps([DEFAULT_USERNAME, DEFAULT_PASSWORD]))
            self.set_meta("bootstrapped", "1")

    def reset(self) -> None:
        """Drop every row and bootstrap again (``POST /_sandbox/reset/``)."""
        with self.tx():
            for name in (*SPECS, "meta", "tokens"):
                self.conn.execute(f"DELETE FROM {name}")
            self._tokens.clear()
        self._bootstrap()

    # ----------------------------------------------------------------- plumbing
    @contextlib.contextmanager
    def tx(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one."""
        with self.lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                self.generation += 1
                raise
            self.conn.execute("COMMIT")
            self.generation += 1

    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
            )

    def new_uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    # ----------------------------------------------------------------- rows
    @staticmethod
    def decode(spec: Spec, row: tuple[Any, ...]) -> dict[str, Any]:
        """A stored row as Python values (JSON parsed, booleans as bool), hidden columns kept."""
        record: dict[str, Any] = {"id": row[0]}
        for fld, value in zip(spec.fields, row[1:], strict=False):
            if value is not None:
                if fld.kind == "json":
                    value = json.loads(value)
                elif fld.kind == "bool":
                    value = bool(value)
            record[fld.name] = value
        if spec.dates:
            record["created_date"] = row[-2]
            record["modified_date"] = row[-1]
        return record

    @staticmethod
    def wire(spec: Spec, record: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON shape a client sees: id keys first, hidden columns dropped."""
        out: dict[str, Any] = {key: record["id"] for key in spec.id_keys}
        for fld in spec.fields:
            if not fld.hidden:
                out[fld.name] = record.get(fld.name)
        if spec.dates:
            out["created_date"] = record.get("created_date")
            out["modified_date"] = record.get("modified_date")
        return out

    def select(
        self,
        table: str,
        where_sql: str = "1=1",
        args: tuple[Any, ...] | list[Any] = (),
        order: str = "t.id ASC",
        limit: int | None = None,
        offset: int = 0,
        joins: str = "",
    ) -> list[dict[str, Any]]:
        spec = SPECS[table]
        sql = (
            f"SELECT {self._select[table]} FROM {table} t {joins} "
            f"WHERE {where_sql} ORDER BY {order}"
        )
        params = list(args)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self.lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [self.decode(spec, row) for row in rows]

    def count(
        self,
        table: str,
        where_sql: str = "1=1",
        args: tuple[Any, ...] | list[Any] = (),
        joins: str = "",
    ) -> int:
        """COUNT(*), cached until the next committed write (paging re-counts every call)."""
        key = (self.generation, table, where_sql, joins, *args)
        with self.lock:
            cached = self._counts.get(key)
            if cached is not None:
                return cached
            row = self.conn.execute(
                f"SELECT COUNT(*) FROM {table} t {joins} WHERE {where_sql}", list(args)
            ).fetchone()
            stale = self._counts and next(iter(self._counts))[0] != self.generation
            if stale or len(self._counts) > 4096:
                self._counts.clear()
            self._counts[key] = int(row[0])
        return int(row[0])

    def select_json(
        self,
        table: str,
        where_sql: str,
        args: list[Any],
        order: str,
        limit: int,
        offset: int,
        joins: str = "",
    ) -> list[str]:
        """Rows already encoded as wire JSON: stored JSON columns are spliced in verbatim,
        which saves a parse and a re-encode per row on the hot list path."""
        spec = SPECS[table]
        sql = (
            f"SELECT {self._select[table]} FROM {table} t {joins} "
            f"WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        with self.lock:
            rows = self.conn.execute(sql, [*args, limit, offset]).fetchall()
        encoders = self._encoders.get(table)
        if encoders is None:
            encoders = self._encoders[table] = _wire_encoders(spec)
        id_keys = [f'"{key}":' for key in spec.id_keys]
        out: list[str] = []
        for row in rows:
            parts = [key + str(row[0]) for key in id_keys]
            parts += [prefix + encode(row[index]) for index, prefix, encode in encoders]
            out.append("{" + ",".join(parts) + "}")
        return out

    def get(self, table: str, obj_id: int) -> dict[str, Any] | None:
        rows = self.select(table, "t.id = ?", (obj_id,))
        return rows[0] if rows else None

    def require(self, table: str, obj_id: int, channel: int | None = None) -> dict[str, Any]:
        record = self.get(table, obj_id)
        if record is None:
            raise not_found()
        if channel is not None and SPECS[table].channel_scoped and record.get("channel") != channel:
            raise not_found()
        return record

    def exists(self, table: str, obj_id: Any) -> bool:
        with self.lock:
            row = self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (obj_id,)).fetchone()
        return row is not None

    def insert(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        spec = SPECS[table]
        record = {f.name: values.get(f.name, _default(f)) for f in spec.fields}
        if "uuid" in spec.field_map and not record.get("uuid"):
            record["uuid"] = self.new_uuid()
        if spec.dates:
            stamp = self.clock.now()
            record["created_date"] = values.get("created_date") or stamp
            record["modified_date"] = values.get("modified_date") or stamp
        names = list(record)
        if "id" in values and values["id"] is not None:
            names.insert(0, "id")
            record = {"id": values["id"], **record}
        sql = (
            f"INSERT INTO {table} ({', '.join(_q(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
        with self.tx():
            cursor = self.conn.execute(sql, [_encode(spec, n, record[n]) for n in names])
            new_id = int(cursor.lastrowid or record.get("id") or 0)
        created = self.get(table, new_id)
        assert created is not None
        return created

    def update(
        self, table: str, obj_id: int, changes: Mapping[str, Any], touch: bool = True
    ) -> dict[str, Any]:
        spec = SPECS[table]
        values = dict(changes)
        if spec.dates and touch:
            values["modified_date"] = self.clock.now()
        if values:
            assignments = ", ".join(f"{_q(name)} = ?" for name in values)
            with self.tx():
                self.conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?",
                    [*(_encode(spec, n, v) for n, v in values.items()), obj_id],
                )
        updated = self.get(table, obj_id)
        if updated is None:
            raise not_found()
        return updated

    def delete(self, table: str, obj_id: int) -> None:
        with self.tx():
            self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (obj_id,))

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in SPECS}

    # ----------------------------------------------------------------- validation
    def validate(
        self,
        spec: Spec,
        body: Any,
        *,
        partial: bool,
        allowed_readonly: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Coerce a JSON body into column values, collecting every field error (DRF style)."""
        if not isinstance(body, dict):
            raise ApiError(
                400,
                {"non_field_errors": ["Invalid data. Expected a dictionary."], "code": "invalid"},
            )
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for fld in spec.fields:
            if fld.readonly and fld.name not in allowed_readonly:
                continue
            if fld.name not in body:
                if fld.required and not partial:
                    errors[fld.name] = ["This field is required."]
                continue
            try:
                values[fld.name] = self._coerce(fld, body[fld.name])
            except ValueError as exc:
                errors[fld.name] = [str(exc)]
        if errors:
            raise ApiError(400, errors)
        return values

    def _coerce(self, fld: Field, value: Any) -> Any:
        if value is None:
            if fld.required:
                raise ValueError("This field may not be null.")
            return None
        kind = fld.kind
        if kind in ("int", "fk"):
            if isinstance(value, bool) or (
                isinstance(value, str) and not value.strip().isdigit() and not _is_int_text(value)
            ):
                raise ValueError("A valid integer is required.")
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValueError("A valid integer is required.") from None
            if kind == "fk" and fld.target and not self.exists(fld.target, number):
                raise ValueError(f'Invalid pk "{number}" - object does not exist.')
            return number
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1"):
                return True
            if str(value).lower() in ("false", "0"):
                return False
            raise ValueError("Must be a valid boolean.")
        if kind == "dec":
            try:
                return parse_decimal(value)
            except ValueError:
                raise ValueError("A valid number is required.") from None
        if kind == "date":
            try:
                return parse_datetime(str(value))
            except ValueError:
                raise ValueError("Datetime has wrong format.") from None
        if kind == "json":
            return value
        text = value if isinstance(value, str) else str(value)
        if fld.max_length is not None and len(text) > fld.max_length:
            raise ValueError(f"Ensure this field has no more than {fld.max_length} characters.")
        return text

    def check_unique(
        self,
        spec: Spec,
        values: Mapping[str, Any],
        exclude_id: int | None = None,
        status: int = 400,
    ) -> None:
        """DRF's ``unique_together`` error for each declared unique set."""
        for fields in spec.uniques:
            if any(values.get(name) is None for name in fields):
                continue
            where = " AND ".join(f"t.{_q(name)} = ?" for name in fields)
            args: list[Any] = [_encode(spec, name, values[name]) for name in fields]
            if exclude_id is not None:
                where += " AND t.id != ?"
                args.append(exclude_id)
            if self.count(spec.table, where, args):
                message = (
                    f"The fields {', '.join(fields)} must make a unique set."
                    if len(fields) > 1
                    else f"{spec.table[:-1]} with this {fields[0]} already exists."
                )
                raise ApiError(status, {"non_field_errors": [message], "code": "unique"})

    # ----------------------------------------------------------------- auth
    def check_login(self, username: str, password: str) -> bool:
        stored = json.loads(self.meta("user") or "[]")
        return bool(stored) and secrets.compare_digest(
            f"{username}\0{password}", f"{stored[0]}\0{stored[1]}"
        )

    def new_token(self, username: str, now: float) -> str:
        key = secrets.token_hex(20)
        with self.tx():
            self.conn.execute(
                "INSERT INTO tokens (key, username, created, uses) VALUES (?,?,?,0)",
                (key, username, now),
            )
        return key

    def use_token(self, key: str) -> tuple[float, int] | None:
        """Count one use of ``key``; ``(created, uses)`` or None if unknown.

        Uses are counted in memory (a write per request would halve throughput); tokens
        themselves are persisted so a restart keeps clients logged in.
        """
        with self.lock:
            entry = self._tokens.get(key)
            if entry is None:
                row = self.conn.execute(
                    "SELECT created FROM tokens WHERE key = ?", (key,)
                ).fetchone()
                if row is None:
                    return None
                entry = self._tokens[key] = [float(row[0]), 0]
            entry[1] += 1
            return float(entry[0]), int(entry[1])

    def revoke_tokens(self) -> int:
        with self.tx():
            self._tokens.clear()
            return self.conn.execute("DELETE FROM tokens").rowcount

    def revoke_token(self, key: str) -> None:
        with self.tx():
            self._tokens.pop(key, None)
            self.conn.execute("DELETE FROM tokens WHERE key = ?", (key,))


def _json_text(value: Any) -> str:
    return "null" if value is None else str(value)


def _json_str(value: Any) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _json_int(value: Any) -> str:
    return "null" if value is None else str(int(value))


def _json_bool(value: Any) -> str:
    return "null" if value is None else ("true" if value else "false")


def _wire_encoders(spec: Spec) -> list[tuple[int, str, Any]]:
    """(column index, ``"name":`` prefix, encoder) for every serialized column, in wire order."""
    kinds = {"json": _json_text, "int": _json_int, "fk": _json_int, "bool": _json_bool}
    out: list[tuple[int, str, Any]] = []
    for index, fld in enumerate(spec.fields, 1):
        if not fld.hidden:
            out.append((index, f'"{fld.name}":', kinds.get(fld.kind, _json_str)))
    if spec.dates:
        out.append((len(spec.fields) + 1, '"created_date":', _json_str))
        out.append((len(spec.fields) + 2, '"modified_date":', _json_str))
    return out


def _is_int_text(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _default(fld: Field) -> Any:
    if isinstance(fld.default, dict | list):
        return json.loads(json.dumps(fld.default))
    return fld.default


def _encode(spec: Spec, name: str, value: Any) -> Any:
    fld = spec.field_map.get(name)
    if value is None or fld is None:
        return value
    if fld.kind == "json":
        return json.dumps(value, separators=(",", ":"))
    if fld.kind == "bool":
        return 1 if value else 0
    return value
