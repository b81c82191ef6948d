"""How integration actions look on the wire and how their bodies are read: the content
type comes as a model string, an id or a nested object."""

from __future__ import annotations

from typing import Any

from ..context import Sim
from ..errors import ApiError
from ..resources import MODEL_TABLES, SPECS
from ..sync import content_type_id

CHUNK = 500  # ids per ``IN (...)``: far below SQLite's bound variables limit


def content_types(sim: Sim) -> dict[int, dict[str, Any]]:
    return {
        r["id"]: {"id": r["id"], "app_label": r["app_label"], "model": r["model"]}
        for r in sim.store.select("content_types")
    }


def ia_serializer(sim: Sim) -> Any:
    types = content_types(sim)
    spec = SPECS["integration_actions"]

    def serialize(row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(spec, row)
        out["content_type"] = types.get(row["content_type"])
        table = MODEL_TABLES.get(row["model"] or "")
        alive = table is not None and sim.store.exists(table, row["object_id"])
        out["content_object"] = {"pk": row["object_id"]} if alive else None  # [INF] minimal
        return out

    return serialize


def ia_page_serializer(sim: Sim) -> Any:
    """``ia_serializer`` for a whole page: whether each object still exists is one query per
    model for the page, not one per row."""
    types = content_types(sim)
    spec = SPECS["integration_actions"]

    def serialize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted: dict[str, set[Any]] = {}
        for row in rows:
            table = MODEL_TABLES.get(row["model"] or "")
            if table is not None:
                wanted.setdefault(table, set()).add(row["object_id"])
        alive = {table: _existing(sim, table, ids) for table, ids in wanted.items()}
        out = []
        for row in rows:
            wire = sim.store.wire(spec, row)
            wire["content_type"] = types.get(row["content_type"])
            table = MODEL_TABLES.get(row["model"] or "")
            found = table is not None and row["object_id"] in alive[table]
            wire["content_object"] = {"pk": row["object_id"]} if found else None  # [INF] minimal
            out.append(wire)
        return out

    return serialize


def _existing(sim: Sim, table: str, ids: set[Any]) -> set[Any]:
    """The values among ``ids`` that match a row of ``table``, compared as ``store.exists``
    compares them (``id = ?``: a bad row's text id matches as SQLite would match it)."""
    found: set[Any] = set()
    listed = [value for value in ids if value is not None]
    for start in range(0, len(listed), CHUNK):
        part = listed[start : start + CHUNK]
        values = ",".join(["(?)"] * len(part))
        # the table comes from MODEL_TABLES, values are bound
        sql = (
            f"SELECT v.column1 FROM (VALUES {values}) v "  # noqa: S608
            f"WHERE EXISTS (SELECT 1 FROM {table} o WHERE o.id = v.column1)"
        )
        rows = sim.store.fetch_rows(sql, part)
        found.update(row[0] for row in rows)
    return found


def ia_values(sim: Sim, cid: int, body: Any, partial: bool) -> dict[str, Any]:
    """IA bodies name the type as ``content_type`` (model string or id), ``content_type_id`` or
    ``content_type_model``."""
    spec = SPECS["integration_actions"]
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    clean = {k: v for k, v in body.items() if k != "content_type"}
    values = sim.store.validate(spec, clean, partial=partial)
    values.pop("model", None)
    ct = body.get("content_type_id", body.get("content_type_model", body.get("content_type")))
    if isinstance(ct, dict):
        ct = ct.get("id") or ct.get("model")
    if ct is None:
        if not partial:
            raise ApiError(400, {"content_type": ["This field is required."]})
        return values
    if isinstance(ct, int) or (isinstance(ct, str) and ct.isdigit()):
        row = sim.store.get("content_types", int(ct))
        if row is None:
            raise ApiError(400, {"content_type": [f'Invalid pk "{ct}" - object does not exist.']})
        values["content_type"], values["model"] = row["id"], row["model"]
    else:
        values["content_type"], values["model"] = content_type_id(sim.store, str(ct)), str(ct)
    values["channel"] = cid
    return values


def ia_clash(sim: Sim, cid: int, values: dict[str, Any], exclude: int | None) -> None:
    where = "t.channel = ? AND t.model = ? AND t.object_id = ?"
    args: list[Any] = [cid, values["model"], values["object_id"]]
    if exclude is not None:
        where += " AND t.id != ?"
        args.append(exclude)
    if sim.store.count("integration_actions", where, args):
        raise ApiError(
            400,
            {
                "non_field_errors": [
                    "The fields channel, content_type, object_id must make a unique set."
                ],
                "code": "unique",
            },
        )  # one IA per (channel, type, object) # [INF]
