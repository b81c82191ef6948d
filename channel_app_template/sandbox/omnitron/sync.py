"""The sync bookkeeping Omnitron keeps per channel: inserts/updates/deleted views derived from
integration actions, and the batch-request state machine that locks and settles them.
"""

# SQL here is built only from identifiers declared in resources and integer ids; values bound.
# ruff: noqa: S608
from __future__ import annotations

from typing import Any

from .errors import ApiError
from .resources import MODEL_TABLES, SPECS
from .store import Store
from .sync_locks import NEW_MARK, Locked, lock_objects, locked_actions, settle_actions
from .timeutil import parse_datetime

BATCH_STATUSES = ("initialized", "commit", "sent_to_remote", "ongoing", "done", "fail")
FAILED_REASONS = frozenset({"mapping", "remote", "channel_app"})
# Documented diagram: initialized -> commit (-> commit) -> sent_to_remote -> ongoing, and any
# open state -> done | fail. ongoing -> ongoing (re-polls) is allowed. # [INF]
TRANSITIONS: dict[str, frozenset[str]] = {
    "initialized": frozenset({"commit", "done", "fail"}),
    "commit": frozenset({"commit", "sent_to_remote", "done", "fail"}),
    "sent_to_remote": frozenset({"ongoing", "done", "fail"}),
    "ongoing": frozenset({"ongoing", "done", "fail"}),
    "done": frozenset(),
    "fail": frozenset(),
}


# ----------------------------------------------------------------------------- views
def ia_join(cid: int, model: str, alias: str = "ia") -> str:
    return (
        f"LEFT JOIN integration_actions {alias} ON {alias}.channel = {int(cid)} "
        f"AND {alias}.model = '{model}' AND {alias}.object_id = t.id"
    )


INSERT_SQL = (
    "(ia.id IS NULL OR (ia.status = 'error' AND ia.remote_id IS NULL "
    "AND (ia.version_date IS NULL OR t.modified_date > ia.version_date)))"
)
UPDATE_SQL = (
    "(ia.remote_id IS NOT NULL AND COALESCE(ia.status, 'success') IN ('success', 'error') "
    "AND (ia.version_date IS NULL OR t.modified_date > ia.version_date))"
)


def view_clause(kind: str) -> str:
    """``inserts``: never sent (or a failed first send changed since); ``updates``: sent and
    modified after ``version_date``. Objects locked by a committed batch (``processing``)
    match neither. # [INF] (omnitron-api.md §6.3)"""
    if kind == "inserts":
        return INSERT_SQL
    if kind == "updates":
        return UPDATE_SQL
    return f"({INSERT_SQL} OR {UPDATE_SQL})"


def product_sent_clause(cid: int) -> str:
    """Price/stock/image inserts wait until their product is on the channel. # [INF]"""
    return (
        f"EXISTS (SELECT 1 FROM integration_actions pia WHERE pia.channel = {int(cid)} "
        "AND pia.model = 'product' AND pia.object_id = t.product "
        "AND pia.status = 'success')"
    )


def deleted_clause(models: list[str]) -> str:
    """IAs whose Omnitron object is gone, minus those locked in an open deletion batch."""
    parts = []
    for model in models:
        table = MODEL_TABLES.get(model)
        if table is None:
            continue
        parts.append(
            f"(t.model = '{model}' AND NOT EXISTS "
            f"(SELECT 1 FROM {table} o WHERE o.id = t.object_id))"
        )
    if not parts:
        return "0=1"
    locked = (
        "NOT EXISTS (SELECT 1 FROM integration_actions l WHERE l.channel = t.channel "
        "AND l.model = 'integrationaction' AND l.object_id = t.id "
        "AND l.status = 'processing')"
    )
    return f"(({' OR '.join(parts)}) AND {locked})"


# ----------------------------------------------------------------------------- batches
def _refuse(current: str, wanted: str) -> ApiError:
    return ApiError(
        406,
        {
            "non_field_errors": [f"Batch request cannot move from {current} to {wanted}."],
            "error": f"Batch request cannot move from {current} to {wanted}.",
            "code": "batch_request_status_100_1",
        },
    )


def _objects(raw: Any, default_model: str | None) -> list[dict[str, Any]] | None:
    """Validate ``objects`` items: ``{pk, content_type, version_date, remote_id,
    failed_reason_type}``."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ApiError(400, {"objects": ["Expected a list of items."]})
    out: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiError(400, {"objects": [f"Item {index} is not an object."]})
        try:
            pk = int(item["pk"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, {"objects": [f"Item {index}: pk is required."]}) from None
        model = item.get("content_type") or default_model
        if not isinstance(model, str) or model not in MODEL_TABLES:
            raise ApiError(400, {"objects": [f"Item {index}: unknown content_type {model!r}."]})
        reason = item.get("failed_reason_type")
        if reason is not None and reason not in FAILED_REASONS:
            raise ApiError(400, {"objects": [f"Item {index}: bad failed_reason_type {reason!r}."]})
        version = item.get("version_date")
        if version is not None:
            try:
                version = parse_datetime(str(version))
            except ValueError:
                raise ApiError(400, {"objects": [f"Item {index}: bad version_date."]}) from None
        remote = item.get("remote_id")
        out.append(
            {
                "pk": pk,
                "content_type": model,
                "version_date": version,
                "remote_id": None if remote is None else str(remote),
                "failed_reason_type": reason,
            }
        )
    return out


def _merge(
    old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for item in [*(old or []), *(new or [])]:
        key = (item["content_type"], item["pk"])
        current = merged.setdefault(key, dict(item))
        current.update({k: v for k, v in item.items() if v is not None})
    return list(merged.values())


class Batches:
    """Applies PATCHes to batch requests and their effects on integration actions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, cid: int, body: Any) -> dict[str, Any]:
        values = self.store.validate(SPECS["batch_requests"], body, partial=True)
        values.pop("objects", None)
        ct = values.get("content_type")
        if ct is not None and ct not in MODEL_TABLES:
            raise ApiError(400, {"content_type": [f'"{ct}" is not a valid content type.']})
        values.update(channel=cid, status="initialized", local_batch_id=self.store.new_uuid())
        return self.store.insert("batch_requests", values)

    def patch(self, cid: int, batch_id: int, body: Any) -> dict[str, Any]:
        store = self.store
        if not isinstance(body, dict):
            raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        with store.tx():
            batch = store.require("batch_requests", batch_id, cid)
            wanted = body.get("status")
            if wanted is not None and wanted not in BATCH_STATUSES:
                raise ApiError(400, {"status": [f'"{wanted}" is not a valid choice.']})
            model = body.get("content_type") or batch["content_type"]
            if body.get("content_type") is not None and model not in MODEL_TABLES:
                raise ApiError(400, {"content_type": [f'"{model}" is not a valid content type.']})
            objects = _objects(body.get("objects"), model)
            changes: dict[str, Any] = {}
            for name in ("remote_batch_id", "log_file"):
                if name in body:
                    changes[name] = None if body[name] is None else str(body[name])
            if wanted is None:
                if batch["status"] in ("done", "fail") and changes:
                    raise _refuse(batch["status"], batch["status"])
                return store.update("batch_requests", batch_id, changes)
            current = batch["status"]
            if wanted not in TRANSITIONS[current]:
                raise _refuse(current, wanted)
            if wanted == "commit":
                changes.update(self._commit(cid, batch, model, objects))
            elif wanted == "done":
                changes["objects"] = self._settle(cid, batch, objects)
            elif wanted == "fail":
                changes["objects"] = self._fail(cid, batch, objects)
            changes["status"] = wanted
            return store.update("batch_requests", batch_id, changes)

    def _commit(
        self,
        cid: int,
        batch: dict[str, Any],
        model: str | None,
        objects: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        if not model:
            raise ApiError(400, {"content_type": ["This field is required to commit."]})
        other = self.store.count(
            "batch_requests",
            "+t.channel = ? AND t.status = 'commit' AND t.content_type = ? AND t.id != ?",
            [cid, model, batch["id"]],
        )
        if other:
            raise ApiError(
                406,
                {
                    "non_field_errors": [f"Another batch request of {model} is already committed."],
                    "error": f"Another batch request of {model} is already committed.",
                    "code": "batch_request_status_100_2",  # [INF] code not published
                },
            )
        lock_objects(self.store, cid, batch["local_batch_id"], objects or [])
        return {"content_type": model, "objects": _merge(batch["objects"], objects)}

    def _settle(
        self, cid: int, batch: dict[str, Any], objects: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """``done``: remote ids -> success (+version_date), failed_reason_type -> error; objects
        that got neither are released back to where they were. # [INF]"""
        store = self.store
        merged = _merge(batch["objects"], objects)
        by_key = {(o["content_type"], o["pk"]): o for o in merged}
        locked = locked_actions(store, cid, batch["local_batch_id"])
        seen = {(action["model"], action["object_id"]) for action in locked}
        sent = {(o["content_type"], o["pk"]) for o in objects or []}
        for key, item in by_key.items():
            if key in seen or key not in sent:
                continue
            if not (item.get("remote_id") or item.get("failed_reason_type")):
                continue  # nothing to record for an object this batch never locked
            locked.append(self._unlocked(cid, batch["local_batch_id"], key))
        settle_actions(store, locked, by_key, release_unsent=False)
        return merged

    def _unlocked(self, cid: int, batch_uuid: str, key: tuple[str, int]) -> Locked:
        """An object settled by a batch that never locked it: its IA (made when missing)."""
        store = self.store
        found = find_action(store, cid, key[0], key[1])
        if found is None:
            store.insert(
                "integration_actions",
                {
                    "channel": cid,
                    "content_type": content_type_id(store, key[0]),
                    "model": key[0],
                    "object_id": key[1],
                    "status": "processing",
                    "local_batch_id": batch_uuid,
                    "prev_status": NEW_MARK,
                    "state": {},
                },
            )
            found = find_action(store, cid, key[0], key[1])
            assert found is not None
        return found

    def _fail(
        self, cid: int, batch: dict[str, Any], objects: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """``fail`` releases the lock; objects sent with a failed_reason_type become errors."""
        by_key = {(o["content_type"], o["pk"]): o for o in objects or []}
        locked = locked_actions(self.store, cid, batch["local_batch_id"])
        settle_actions(self.store, locked, by_key, release_unsent=True)
        return _merge(batch["objects"], objects)


def find_action(store: Store, cid: int, model: str, object_id: int) -> dict[str, Any] | None:
    rows = store.select(
        "integration_actions",
        "t.channel = ? AND t.model = ? AND t.object_id = ?",
        [cid, model, object_id],
    )
    return rows[0] if rows else None


def content_type_id(store: Store, model: str) -> int:
    rows = store.select("content_types", "t.model = ?", [model])
    if not rows:
        raise ApiError(400, {"content_type": [f'"{model}" is not a valid content type.']})
    return int(rows[0]["id"])
