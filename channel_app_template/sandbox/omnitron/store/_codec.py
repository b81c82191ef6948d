"""Values between Python, SQLite and the wire: column encoding, row decoding and the JSON
text of the list fast path.

Every function here is lenient with what is stored: a planted bad row decodes to what it
holds and is served as one odd item, never an error for the whole page."""

from __future__ import annotations

import json
import sqlite3
from json.encoder import encode_basestring as _encode_string
from typing import Any

from channel_app_template.sandbox.common.lenient import plain as _plain

from ..resources import Field, Spec
from ._schema import quote


def lenient_text(raw: bytes) -> str:
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
    if type(value) is str:
        # what json.dumps(value, ensure_ascii=False) returns, without building an encoder
        return _encode_string(value)
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


def decoded(kind: str, value: Any) -> Any:
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


def strict_json_valid(conn: sqlite3.Connection) -> str | None:
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


def json_select(spec: Spec, valid_sql: str | None) -> str:
    """The list fast path's SELECT: JSON columns that are not JSON come out as JSON strings
    (checked in SQL when SQLite can, else by the encoder)."""
    out = ["t.id"]
    for fld in spec.fields:
        col = f"t.{quote(fld.name)}"
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


def without(text: str, keys: list[str]) -> str:
    data = json.loads(text)
    for key in keys:
        data.pop(key, None)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


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


def wire_encoders(spec: Spec, checked_in_sql: bool = True) -> list[tuple[int, str, Any]]:
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


def field_default(fld: Field) -> Any:
    if isinstance(fld.default, dict | list):
        return json.loads(json.dumps(fld.default))
    return fld.default


def encode(spec: Spec, name: str, value: Any) -> Any:
    fld = spec.field_map.get(name)
    if value is None or fld is None:
        return value
    if fld.kind == "json":
        return json.dumps(value, separators=(",", ":"))
    if fld.kind == "bool":
        return 1 if value else 0
    return value
