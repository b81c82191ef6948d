"""Planted bad rows (``/_sandbox/raw/``): values stored exactly as given, unvalidated, and
the wire keys a row is served without, for the bad-data tests."""

# SQL here is built only from identifiers declared in resources; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from channel_app_template.sandbox.common.lenient import plain as _plain

from ..errors import ApiError, not_found
from ..resources import SPECS, Spec
from ._codec import encode, field_default
from ._rows import RowStore
from ._schema import MAX_INT, columns, quote


class RawRows(RowStore):
    """Writes and reads of rows as stored, around the validation of the API."""

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
                base = {f.name: encode(spec, f.name, field_default(f)) for f in spec.fields}
                if "uuid" in spec.field_map:
                    base["uuid"] = self.new_uuid()
                if spec.dates:
                    stamp = self.clock.now()
                    base.update(created_date=stamp, modified_date=stamp)
                base.update(row)
                names = list(base)
                cursor = self.conn.execute(
                    f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) "
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
                    assignments = ", ".join(f"{quote(n)} = ?" for n in row)
                    self.conn.execute(
                        f"UPDATE {table} SET {assignments} WHERE id = ?",
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
            f"SELECT {', '.join(quote(n) for n in names)} FROM {table} WHERE id = ?", [obj_id]
        )
        if not rows:
            raise not_found()
        row = rows[0]
        stored = {name: _plain(value) for name, value in zip(names, row, strict=True)}
        return {"stored": stored, "omit": self._omits.get(table, {}).get(obj_id, [])}


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
