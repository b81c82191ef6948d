"""Rows of the resource tables: one SQLite connection, transactions, and the generic
select/count/insert/update/delete every route uses.

One connection, serialized by a lock: the app runs in one uvicorn process and every query is
short, so this is faster than a pool and keeps writes atomic. WAL + ``synchronous=NORMAL`` keep
commits cheap; the file survives restarts, which is the point of ``--state``."""

# SQL here is built only from identifiers declared in resources; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from random import Random
from typing import Any, TypeVar, cast

from channel_app_template.sandbox.common.lenient import plain as _plain

from ..errors import not_found
from ..resources import SPECS, Spec
from ..timeutil import ISO_FORMAT, Clock
from ._codec import (
    decoded,
    encode,
    field_default,
    json_select,
    lenient_text,
    strict_json_valid,
    wire_encoders,
    without,
)
from ._schema import bootstrap, columns, quote, schema_statements

T = TypeVar("T")
MEMO_ENTRIES = 4096  # entries kept between two writes; the memo is dropped beyond that
CLOCK_SKEW_SECONDS = 86_400  # a stored date further ahead than this never moves the clock


class RowStore:
    """The connection and generic row operations; ``Store`` adds validation, tokens and
    planted rows on top."""

    def __init__(self, path: str, *, seed: int = 0) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.clock = Clock()
        self.random = Random(seed)
        self._tokens: dict[str, list[float]] = {}
        self._encoders: dict[str, list[tuple[int, str, Any]]] = {}
        self._counts: dict[tuple[Any, ...], int] = {}
        self.generation = 0  # bumped by every committed write; keys the count cache
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_generation = 0
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
            name: ", ".join(f"t.{quote(c)}" for c in columns(spec)) for name, spec in SPECS.items()
        }
        # The list fast path splices stored JSON verbatim; text that is not JSON (a bad row)
        # is served as a JSON string instead of breaking the whole page.
        self._valid_sql = strict_json_valid(self.conn)
        self._select_json = {
            name: json_select(spec, self._valid_sql) for name, spec in SPECS.items()
        }
        self._omits: dict[str, dict[int, list[str]]] = {}
        self._create_schema()
        self._bootstrap()
        self._load_omits()
        self._observe_stored_dates()

    # ----------------------------------------------------------------- schema and bootstrap
    def _create_schema(self) -> None:
        with self.tx():
            for statement in schema_statements():
                self.conn.execute(statement)

    def _bootstrap(self) -> None:
        bootstrap(self)

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
            record[fld.name] = decoded(fld.kind, value)
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

    def memo(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, kept until the next committed write (like ``count``): for lookups many
        requests repeat between writes, e.g. a channel's attribute sets. Inside a transaction
        it always computes, since uncommitted writes do not move the generation."""
        with self.lock:
            if self.conn.in_transaction:
                return compute()
            if self._memo_generation != self.generation or len(self._memo) > MEMO_ENTRIES:
                self._memo.clear()
                self._memo_generation = self.generation
            if key in self._memo:
                return cast(T, self._memo[key])
            value = compute()
            self._memo[key] = value
            return value

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
            encoders = self._encoders[table] = wire_encoders(spec, self._valid_sql is not None)
        id_keys = [f'"{key}":' for key in spec.id_keys]
        omits = self._omits.get(table, {})
        out: list[str] = []
        for row in rows:
            parts = [key + str(row[0]) for key in id_keys]
            parts += [prefix + encode(row[index]) for index, prefix, encode in encoders]
            text = "{" + ",".join(parts) + "}"
            if row[0] in omits:
                text = without(text, omits[row[0]])
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
                self.conn.text_factory = lenient_text
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
        record = {f.name: values.get(f.name, field_default(f)) for f in spec.fields}
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
            f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
        with self.tx():
            cursor = self.conn.execute(sql, [encode(spec, n, record[n]) for n in names])
            new_id = int(cursor.lastrowid or record.get("id") or 0)
        created = self.get(table, new_id)
        assert created is not None
        return created

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """``insert`` of many rows in one ``executemany`` (defaults, uuid, dates), without
        reading them back: for bulk writes whose caller needs no returned rows."""
        if not rows:
            return
        spec = SPECS[table]
        names = [f.name for f in spec.fields]
        if spec.dates:
            names += ["created_date", "modified_date"]
        defaults = {f.name: encode(spec, f.name, f.default) for f in spec.fields}
        values = []
        for row in rows:
            record = {
                name: encode(spec, name, row[name]) if name in row else default
                for name, default in defaults.items()
            }
            if "uuid" in spec.field_map and not record.get("uuid"):
                record["uuid"] = self.new_uuid()
            if spec.dates:
                stamp = self.clock.now()
                record["created_date"] = row.get("created_date") or stamp
                record["modified_date"] = row.get("modified_date") or stamp
            values.append([record[name] for name in names])
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
        with self.tx():
            self.conn.executemany(sql, values)

    def update(
        self, table: str, obj_id: int, changes: Mapping[str, Any], touch: bool = True
    ) -> dict[str, Any]:
        spec = SPECS[table]
        values = dict(changes)
        if spec.dates and touch:
            values["modified_date"] = self.clock.now()
        if values:
            assignments = ", ".join(f"{quote(name)} = ?" for name in values)
            with self.tx():
                self.conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?",
                    [*(encode(spec, n, v) for n, v in values.items()), obj_id],
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

    def _load_omits(self) -> None:
        self._omits.clear()
        for table, obj_id, keys in self.conn.execute("SELECT tbl, obj_id, keys FROM sandbox_omit"):
            self._omits.setdefault(table, {})[int(obj_id)] = list(json.loads(keys))
