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
import math
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from random import Random
from typing import Any

from channel_app_template.sandbox.common.lenient import plain as _plain

from .errors import ApiError, not_found
from .resources import MODELS, SPECS, Field, Spec
from .timeutil import ISO_FORMAT, Clock, parse_datetime, parse_decimal

DEFAULT_USERNAME = "sandbox"
DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - a local simulator's documented login
DEFAULT_CHANNEL_ID = 1
DEFAULT_CATALOG_ID = 1
EXTRA_MODELS = ("marketplaceattributeconfig",)  # not in the doc's list but used by configs # [INF]
MAX_INT = 2**63 - 1  # what one SQLite INTEGER holds
CLOCK_SKEW_SECONDS = 86_400  # a stored date further ahead than this never moves the clock

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
        # The list fast path splices stored JSON verbatim; text that is not JSON (a bad row)
        # is served as a JSON string instead of breaking the whole page.
        self._valid_sql = _strict_json_valid(self.conn)
        self._select_json = {
            name: _json_select(spec, self._valid_sql) for name, spec in SPECS.items()
        }
        self._omits: dict[str, dict[int, list[str]]] = {}
        self._create_schema()
        self._bootstrap()
        self._load_omits()
        self._observe_stored_dates()

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
        statements.append(
            "CREATE TABLE IF NOT EXISTS sandbox_omit (tbl TEXT NOT NULL, obj_id INTEGER NOT NULL, "
            "keys TEXT NOT NULL, PRIMARY KEY (tbl, obj_id))"
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
            for name in (*SPECS, "meta", "tokens", "sandbox_omit"):
                self.conn.execute(f"DELETE FROM {name}")
            self._tokens.clear()
            self._omits.clear()
        self._bootstrap()

    def _observe_stored_dates(self) -> None:
        """After a restart, never hand out a time earlier than a stored product date; a date
        that is not canonical or lies far ahead (planted bad data) must not move the clock."""
        horizon = datetime.fromtimestamp(time.time() + CLOCK_SKEW_SECONDS, UTC).strftime(ISO_FORMAT)
        row = self.conn.execute(
            "SELECT max(modified_date) FROM products WHERE modified_date <= ? "
            "AND modified_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z'",
            (horizon,),
        ).fetchone()
        if row and row[0]:
            try:
                datetime.strptime(row[0], ISO_FORMAT)
            except ValueError:
                return
            self.clock.observe(row[0])

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
        """A stored row as Python values (JSON parsed, booleans as bool), hidden columns kept.

        A value that does not decode (a bad row) stays as stored: one bad row is one bad
        item for whoever reads it, never an error for the whole listing."""
        record: dict[str, Any] = {"id": row[0]}
        for fld, value in zip(spec.fields, row[1:], strict=False):
            record[fld.name] = _decoded(fld.kind, value)
        if spec.dates:
            record["created_date"] = _plain(row[-2])
            record["modified_date"] = _plain(row[-1])
        return record

    def wire(self, spec: Spec, record: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON shape a client sees: id keys first, hidden columns dropped (and the keys a
        planted bad row says to leave out)."""
        out: dict[str, Any] = {key: record["id"] for key in spec.id_keys}
        for fld in spec.fields:
            if not fld.hidden:
                out[fld.name] = record.get(fld.name)
        if spec.dates:
            out["created_date"] = record.get("created_date")
            out["modified_date"] = record.get("modified_date")
        for key in self._omits.get(spec.table, {}).get(record["id"], ()):
            out.pop(key, None)
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
            rows = self.fetch_rows(sql, params)
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
            f"SELECT {self._select_json[table]} FROM {table} t {joins} "
            f"WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        with self.lock:
            rows = self.fetch_rows(sql, [*args, limit, offset])
        encoders = self._encoders.get(table)
        if encoders is None:
            encoders = self._encoders[table] = _wire_encoders(spec, self._valid_sql is not None)
        id_keys = [f'"{key}":' for key in spec.id_keys]
        omits = self._omits.get(table, {})
        out: list[str] = []
        for row in rows:
            parts = [key + str(row[0]) for key in id_keys]
            parts += [prefix + encode(row[index]) for index, prefix, encode in encoders]
            text = "{" + ",".join(parts) + "}"
            if row[0] in omits:
                text = _without(text, omits[row[0]])
            out.append(text)
        return out

    def fetch_rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """``fetchall``; text that is not UTF-8 (written by another tool, a bad row) is read
        with replacement characters instead of failing the whole query."""
        with self.lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if "decode" not in str(exc):
                    raise
                self.conn.text_factory = _lenient_text
                try:
                    return self.conn.execute(sql, params).fetchall()
                finally:
                    self.conn.text_factory = str

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

    # ----------------------------------------------------------------- planted bad rows
    def _load_omits(self) -> None:
        self._omits.clear()
        for table, obj_id, keys in self.conn.execute("SELECT tbl, obj_id, keys FROM sandbox_omit"):
            self._omits.setdefault(table, {})[int(obj_id)] = list(json.loads(keys))

    def raw_write(
        self,
        table: str,
        obj_id: int | None,
        values: Mapping[str, Any],
        omit: list[str] | None,
        touch: bool,
    ) -> int:
        """Store ``values`` exactly as given, unvalidated (``/_sandbox/raw/``): a deliberately
        malformed row for bad-data tests. Missing columns of a new row get their defaults;
        ``omit`` lists wire keys the row is served without (``["pk"]``). Returns the id."""
        spec = SPECS[table]
        known = set(columns(spec)) - {"id"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ApiError(400, {"values": [f"Unknown column(s) {unknown} of {table}."]})
        row = {name: _raw_value(spec, name, value) for name, value in values.items()}
        with self.tx():
            if obj_id is None:
                base = {f.name: _encode(spec, f.name, _default(f)) for f in spec.fields}
                if "uuid" in spec.field_map:
                    base["uuid"] = self.new_uuid()
                if spec.dates:
                    stamp = self.clock.now()
                    base.update(created_date=stamp, modified_date=stamp)
                base.update(row)
                names = list(base)
                cursor = self.conn.execute(
                    f"INSERT INTO {table} ({', '.join(_q(n) for n in names)}) "
                    f"VALUES ({', '.join('?' * len(names))})",
                    [base[n] for n in names],
                )
                obj_id = int(cursor.lastrowid or 0)
            else:
                if not self.exists(table, obj_id):
                    raise not_found()
                if spec.dates and touch and "modified_date" not in row:
                    row["modified_date"] = self.clock.now()
                if row:
                    self.conn.execute(
                        f"UPDATE {table} SET {', '.join(f'{_q(n)} = ?' for n in row)} WHERE id = ?",
                        [*row.values(), obj_id],
                    )
            if omit is not None:
                self.conn.execute(
                    "DELETE FROM sandbox_omit WHERE tbl = ? AND obj_id = ?", (table, obj_id)
                )
                if omit:
                    self.conn.execute(
                        "INSERT INTO sandbox_omit (tbl, obj_id, keys) VALUES (?, ?, ?)",
                        (table, obj_id, json.dumps(omit)),
                    )
            self._load_omits()
        return obj_id

    def raw_row(self, table: str, obj_id: int) -> dict[str, Any]:
        """A row's stored columns as they are (for ``GET /_sandbox/raw/...``)."""
        spec = SPECS[table]
        names = columns(spec)
        rows = self.fetch_rows(
            f"SELECT {', '.join(_q(n) for n in names)} FROM {table} WHERE id = ?", [obj_id]
        )
        if not rows:
            raise not_found()
        row = rows[0]
        stored = {name: _plain(value) for name, value in zip(names, row, strict=True)}
        return {"stored": stored, "omit": self._omits.get(table, {}).get(obj_id, [])}

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
            if fld.bounds is not None and number < fld.bounds[0]:
                raise ValueError(f"Ensure this value is greater than or equal to {fld.bounds[0]}.")
            if fld.bounds is not None and number > fld.bounds[1]:
                raise ValueError(f"Ensure this value is less than or equal to {fld.bounds[1]}.")
            if abs(number) > MAX_INT:
                raise ValueError("A valid integer is required.")
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
        if fld.choices is not None and text not in fld.choices:
            raise ValueError(f'"{text}" is not a valid choice.')
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


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _json_any(value: Any) -> str:
    """Any stored scalar as JSON, whatever the column's declared kind."""
    return json.dumps(_plain(value), ensure_ascii=False)


def _json_text(value: Any) -> str:
    # JSON columns are selected through json_valid()/json_quote(): always JSON text here
    return "null" if value is None else str(value)


def _json_str(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _json_any(value)


def _json_int(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return _json_any(value)  # a bad row: served with its stored value


def _json_bool(value: Any) -> str:
    if value is None:
        return "null"
    if value in (0, 1) and not isinstance(value, str):
        return "true" if value else "false"
    return _json_any(value)


def _decoded(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        if not isinstance(value, str):
            return _plain(value)
        try:
            return json.loads(value)
        except ValueError:
            return value
    if kind == "bool" and value in (0, 1) and not isinstance(value, str):
        return bool(value)
    return _plain(value)


def _strict_json_valid(conn: sqlite3.Connection) -> str | None:
    """The SQL that tells RFC 8259 JSON text from anything else, or None when this SQLite
    cannot (since 3.42 plain ``json_valid`` also accepts JSON5; 3.45 takes a flag)."""
    for form in ("json_valid({}, 1)", "json_valid({})"):
        try:
            row = conn.execute(
                "SELECT " + form.format("'{a:1}'") + ", " + form.format("'[1]'")
            ).fetchone()
        except sqlite3.OperationalError:
            continue
        if row == (0, 1):
            return form
    return None


def _json_select(spec: Spec, valid_sql: str | None) -> str:
    """The list fast path's SELECT: JSON columns that are not JSON come out as JSON strings
    (checked in SQL when SQLite can, else by the encoder)."""
    out = ["t.id"]
    for fld in spec.fields:
        col = f"t.{_q(fld.name)}"
        if fld.kind == "json":
            text = f"CAST({col} AS TEXT)"
            if valid_sql is None:
                col = f"CASE WHEN {col} IS NULL THEN NULL ELSE {text} END"
            else:
                col = (
                    f"CASE WHEN {col} IS NULL THEN NULL "
                    f"WHEN typeof({col}) = 'text' AND {valid_sql.format(col)} THEN {col} "
                    f"WHEN typeof({col}) = 'blob' THEN json_quote(hex({col})) "
                    f"ELSE json_quote({text}) END"
                )
        out.append(col)
    if spec.dates:
        out += ["t.created_date", "t.modified_date"]
    return ", ".join(out)


def _without(text: str, keys: list[str]) -> str:
    data = json.loads(text)
    for key in keys:
        data.pop(key, None)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _raw_value(spec: Spec, name: str, value: Any) -> Any:
    """A planted value as SQLite stores it: JSON columns hold JSON text of any value; other
    columns hold scalars as given (objects and lists as JSON text)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ApiError(400, {name: [f"Integers are limited to +-{MAX_INT} (SQLite)."]})
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(400, {name: ["Numbers must be finite."]})
    fld = spec.field_map.get(name)
    if fld is not None and fld.kind == "json":
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


def _json_checked(value: Any) -> str:
    """A JSON column's text, checked here when SQLite could not check it."""
    if value is None:
        return "null"
    try:
        json.loads(value, parse_constant=_no_constant)
    except ValueError:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _wire_encoders(spec: Spec, checked_in_sql: bool = True) -> list[tuple[int, str, Any]]:
    """(column index, ``"name":`` prefix, encoder) for every serialized column, in wire order."""
    json_encoder = _json_text if checked_in_sql else _json_checked
    kinds = {"json": json_encoder, "int": _json_int, "fk": _json_int, "bool": _json_bool}
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
