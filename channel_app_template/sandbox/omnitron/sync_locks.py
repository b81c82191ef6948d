"""The integration actions a batch locks, settles and releases, written set-wise.

Why: a commit or ``done`` of a few hundred objects used to be a select, a write and a re-read
per object (most of the simulator's CPU in a catalog sync). Here one PATCH reads the affected
rows once, decides every row's outcome in Python and writes each kind of change with one
``executemany``; the rules are the ones ``sync.Batches`` documents."""

# SQL here is built only from identifiers declared in resources and fixed column lists;
# values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from channel_app_template.sandbox.common.lenient import plain

from .errors import ApiError
from .store import Store

__all__ = ["NEW_MARK", "Locked", "lock_objects", "locked_actions", "settle_actions"]

NEW_MARK = "__created_by_commit__"  # prev_status of an IA that a commit created # [INF]
CHUNK = 500  # ids per ``IN (...)``: far below SQLite's bound variables limit
Locked = dict[str, Any]  # one locked IA: id, model, object_id, remote_id, version_date, ...

_LOCKED_COLUMNS = ("id", "model", "object_id", "remote_id", "version_date", "prev_status")


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def content_type_ids(store: Store, models: Iterable[str]) -> dict[str, int]:
    """Model string -> content type id; an unknown model is DRF's 400."""
    wanted = sorted(set(models))
    found: dict[str, int] = {}
    for model in wanted:
        row = store.conn.execute(
            "SELECT id FROM content_types WHERE model = ? ORDER BY id LIMIT 1", (model,)
        ).fetchone()
        if row is None:
            raise ApiError(400, {"content_type": [f'"{model}" is not a valid content type.']})
        found[model] = int(row[0])
    return found


def _existing(store: Store, cid: int, model: str, pks: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """object_id -> (id, status) of the channel's IAs of ``model`` among ``pks``."""
    out: dict[int, tuple[Any, ...]] = {}
    for part in _chunks(pks):
        marks = ",".join("?" * len(part))
        for ia_id, object_id, status in store.conn.execute(
            "SELECT id, object_id, status FROM integration_actions WHERE channel = ? "
            f"AND model = ? AND object_id IN ({marks})",
            [cid, model, *part],
        ):
            out.setdefault(int(object_id), (ia_id, status))
    return out


def lock_objects(store: Store, cid: int, batch_uuid: str, items: list[dict[str, Any]]) -> None:
    """``commit``: every object's IA becomes ``processing`` under ``batch_uuid``, created when
    missing (marked ``NEW_MARK`` so a release deletes it); the state it left is kept in
    ``prev_status``; a ``remote_id`` sent with the object is recorded. Repeated objects act as
    one whose remote id is the last one given."""
    remotes: dict[tuple[str, int], str | None] = {}
    for item in items:
        key = (item["content_type"], item["pk"])
        if item["remote_id"] is not None or key not in remotes:
            remotes[key] = item["remote_id"]
    if not remotes:
        return
    by_model: dict[str, list[int]] = {}
    for model, pk in remotes:
        by_model.setdefault(model, []).append(pk)
    type_ids = content_type_ids(store, by_model)
    inserts: list[dict[str, Any]] = []
    updates: dict[tuple[bool, bool], list[list[Any]]] = {}
    for model, pks in by_model.items():
        existing = _existing(store, cid, model, pks)
        for pk in pks:
            remote = remotes[(model, pk)]
            found = existing.get(pk)
            if found is None:
                inserts.append(
                    {
                        "channel": cid,
                        "content_type": type_ids[model],
                        "model": model,
                        "object_id": pk,
                        "remote_id": remote,
                        "status": "processing",
                        "local_batch_id": batch_uuid,
                        "prev_status": NEW_MARK,
                        "state": {},
                    }
                )
                continue
            ia_id, status = found[0], plain(found[1])
            moves = status != "processing"
            args: list[Any] = ["processing", batch_uuid]
            if moves:
                args.append(status or "success")
            if remote is not None:
                args.append(remote)
            args += [store.clock.now(), ia_id]
            updates.setdefault((moves, remote is not None), []).append(args)
    for (keeps_prev, sets_remote), rows in updates.items():
        sets = ["status = ?", "local_batch_id = ?"]
        sets += ["prev_status = ?"] if keeps_prev else []
        sets += ["remote_id = ?"] if sets_remote else []
        sets.append("modified_date = ?")
        store.conn.executemany(
            f"UPDATE integration_actions SET {', '.join(sets)} WHERE id = ?", rows
        )
    store.insert_many("integration_actions", inserts)


def locked_actions(store: Store, cid: int, batch_uuid: str) -> list[Locked]:
    """The IAs ``batch_uuid`` holds, with the columns settling needs (``state`` as stored)."""
    cols = ", ".join(_LOCKED_COLUMNS)
    rows = store.fetch_rows(
        # ``+channel``: look up by the batch's uuid, never scan the channel's whole index
        f"SELECT {cols}, state FROM integration_actions WHERE local_batch_id = ? "
        "AND +channel = ? AND status = 'processing' ORDER BY id",
        [batch_uuid, cid],
    )
    out: list[Locked] = []
    for row in rows:
        action = {name: plain(value) for name, value in zip(_LOCKED_COLUMNS, row, strict=False)}
        action["state"] = row[-1]
        out.append(action)
    return out


def _state(raw: Any) -> Any:
    """A stored ``state`` as Python (a bad row keeps what it holds)."""
    if not isinstance(raw, str):
        return plain(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def settle_actions(
    store: Store,
    actions: list[Locked],
    items: dict[tuple[str, int], dict[str, Any]],
    *,
    release_unsent: bool,
) -> None:
    """Write each locked action's outcome: a ``failed_reason_type`` -> ``error``; otherwise
    with ``release_unsent`` False, a remote id (sent or already held) -> ``success`` with the
    sent ``version_date``; anything else is released to its ``prev_status`` (deleted when the
    commit created it). ``fail`` passes ``release_unsent`` to release all but the errors."""
    success: list[list[Any]] = []
    errors: list[list[Any]] = []
    restore: list[list[Any]] = []
    drop: list[list[Any]] = []
    for action in actions:
        item = items.get((action["model"], action["object_id"]))
        version = (item or {}).get("version_date") or action["version_date"]
        remote = (item or {}).get("remote_id") or action["remote_id"]
        if item is not None and item.get("failed_reason_type"):
            state = dict(_state(action["state"]) or {})
            state["failed_reason_type"] = item["failed_reason_type"]
            text = json.dumps(state, separators=(",", ":"))
            errors.append(["error", text, version, store.clock.now(), action["id"]])
        elif remote is not None and not release_unsent:
            success.append(["success", remote, version, store.clock.now(), action["id"]])
        elif action["prev_status"] == NEW_MARK:
            drop.append([action["id"]])
        else:
            restore.append([action["prev_status"], store.clock.now(), action["id"]])
    conn = store.conn
    conn.executemany(
        "UPDATE integration_actions SET status = ?, state = ?, version_date = ?, "
        "modified_date = ? WHERE id = ?",
        errors,
    )
    conn.executemany(
        "UPDATE integration_actions SET status = ?, remote_id = ?, version_date = ?, "
        "modified_date = ? WHERE id = ?",
        success,
    )
    conn.executemany(
        "UPDATE integration_actions SET status = ?, prev_status = NULL, modified_date = ? "
        "WHERE id = ?",
        restore,
    )
    conn.executemany("DELETE FROM integration_actions WHERE id = ?", drop)
