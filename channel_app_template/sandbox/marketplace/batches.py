"""Asynchronous batches: accept now (202 + ``batch_id``), process when the delay has passed.

A batch is stored with its raw items and a ``ready_at`` time. Nothing runs in the background:
every request first *settles* the batches whose time has come (oldest first, each in one
transaction), so results are deterministic and survive restarts. Each kind of batch has a
processor registered with :func:`register_kind`; products register ``product_upsert`` and
``image_update``, and a later orders module can register its own kinds the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import loads_or_raw

from .errors import api_error

if TYPE_CHECKING:
    from .store import MarketStore

logger = logging.getLogger(__name__)

DDL = (
    "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "id TEXT UNIQUE, kind TEXT NOT NULL, status TEXT NOT NULL, "
    "item_count INTEGER NOT NULL, accepted INTEGER NOT NULL DEFAULT 0, "
    "rejected INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, ready_at REAL NOT NULL, "
    "completed_at REAL, payload TEXT NOT NULL, idempotency_key TEXT UNIQUE, payload_hash TEXT)",
    "CREATE INDEX IF NOT EXISTS ix_batches_pending ON batches (status, ready_at)",
    "CREATE TABLE IF NOT EXISTS batch_items (batch_seq INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "sku TEXT, status TEXT NOT NULL, product_id TEXT, reasons TEXT NOT NULL, "
    "PRIMARY KEY (batch_seq, idx))",
)
DATA_TABLES = ("batch_items", "batches")
PROCESSING = "processing"
COMPLETED = "completed"


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome; the same shape for batches and synchronous bulk calls."""

    index: int
    sku: str | None
    status: str  # "accepted" | "rejected"
    product_id: str | None = None
    reasons: tuple[dict[str, str], ...] = ()

    def wire(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sku": self.sku,
            "status": self.status,
            "product_id": self.product_id,
            "reasons": list(self.reasons),
        }


Processor = Callable[["MarketStore", sqlite3.Connection, list[Any]], list[ItemResult]]
PROCESSORS: dict[str, Processor] = {}


def register_kind(kind: str, processor: Processor) -> None:
    PROCESSORS[kind] = processor


def batch_id(seed: int, seq: int) -> str:
    """Deterministic under ``--seed`` and unique per state file (keyed by the row number)."""
    return f"b-{uuid.UUID(int=Random(f'{seed}:{seq}').getrandbits(128), version=4)}"


def create(
    store: MarketStore, kind: str, items: list[Any], idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Store a new batch; return (summary, replayed).

    With an ``Idempotency-Key`` seen before (same kind and items) the earlier batch comes back
    instead and ``replayed`` is true; the same key with other items is a 409.
    """
    now = store.clock()
    ready = now + store.batch_delay
    payload = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(f"{kind}\n{payload}".encode()).hexdigest()
    with store.tx() as conn:
        if idempotency_key:
            row = conn.execute(
                "SELECT id, payload_hash FROM batches WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if row is not None:
                if row[1] != digest:
                    raise api_error(
                        409,
                        "idempotency_key_conflict",
                        "This Idempotency-Key was used for a different request.",
                    )
                found = summary(store, row[0])
                assert found is not None
                return found, True
        seq = int(
            conn.execute(
                "INSERT INTO batches (kind, status, item_count, created_at, ready_at, payload, "
                "idempotency_key, payload_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    PROCESSING,
                    len(items),
                    now,
                    ready,
                    payload,
                    idempotency_key or None,
                    digest,
                ),
            ).lastrowid
            or 0
        )
        bid = batch_id(store.seed, seq)
        conn.execute("UPDATE batches SET id = ? WHERE seq = ?", (bid, seq))
        store.note_pending(ready)
    if store.batch_delay <= 0:
        store.settle()
    found = summary(store, bid)
    assert found is not None
    return found, False


def settle(store: MarketStore, *, force: bool = False) -> int:
    """Process every batch that is due (all pending ones with ``force``); return how many."""
    done = 0
    now = store.clock()
    with store.tx() as conn:
        rows = conn.execute(
            "SELECT seq, kind, payload FROM batches WHERE status = ? AND ready_at <= ? "
            "ORDER BY seq",
            (PROCESSING, float("inf") if force else now),
        ).fetchall()
        for seq, kind, payload in rows:
            loaded = loads_or_raw(payload)
            items = loaded if isinstance(loaded, list) else []  # unreadable: nothing to do
            conn.execute("SAVEPOINT batch")
            try:
                results = PROCESSORS[kind](store, conn, items)
            except Exception:  # a bug must not wedge every later request on this batch
                conn.execute("ROLLBACK TO batch")
                logger.exception("processing batch %s failed", seq)
                results = [
                    ItemResult(
                        index,
                        None,
                        "rejected",
                        reasons=(
                            {"code": "processing_failed", "message": "the marketplace failed"},
                        ),
                    )
                    for index in range(len(items))
                ]
            conn.execute("RELEASE batch")
            conn.executemany(
                "INSERT OR REPLACE INTO batch_items (batch_seq, idx, sku, status, product_id, "
                "reasons) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (seq, r.index, r.sku, r.status, r.product_id, json.dumps(list(r.reasons)))
                    for r in results
                ],
            )
            accepted = sum(1 for r in results if r.status == "accepted")
            conn.execute(
                "UPDATE batches SET status = ?, accepted = ?, rejected = ?, completed_at = ? "
                "WHERE seq = ?",
                (COMPLETED, accepted, len(results) - accepted, store.clock(), seq),
            )
            done += 1
        row = conn.execute(
            "SELECT MIN(ready_at) FROM batches WHERE status = ?", (PROCESSING,)
        ).fetchone()
        store.next_ready = None if row[0] is None else float(row[0])
    return done


def _summary_wire(store: MarketStore, row: tuple[Any, ...]) -> dict[str, Any]:
    _, bid, kind, status, count, accepted, rejected, created, _ready, completed = row
    return {
        "batch_id": bid,
        "kind": kind,
        "status": status,
        "item_count": count,
        "accepted_count": accepted if status == COMPLETED else None,
        "rejected_count": rejected if status == COMPLETED else None,
        "created_at": store.iso(created),
        "completed_at": None if completed is None else store.iso(completed),
    }


SUMMARY_COLUMNS = (
    "seq, id, kind, status, item_count, accepted, rejected, created_at, ready_at, completed_at"
)


def summary(store: MarketStore, bid: str) -> dict[str, Any] | None:
    with store.lock:
        row = store.conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM batches WHERE id = ?",  # noqa: S608
            (bid,),
        ).fetchone()
    return None if row is None else _summary_wire(store, row)


def detail(
    store: MarketStore, bid: str, *, offset: int, limit: int, status: str | None
) -> dict[str, Any] | None:
    """A batch with one page of item results (``items`` stays empty while processing)."""
    with store.lock:
        row = store.conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM batches WHERE id = ?",  # noqa: S608
            (bid,),
        ).fetchone()
        if row is None:
            return None
        out = _summary_wire(store, row)
        where, args = "batch_seq = ?", [row[0]]
        if status:
            where += " AND status = ?"
            args.append(status)
        total = int(
            store.conn.execute(
                f"SELECT COUNT(*) FROM batch_items WHERE {where}",  # noqa: S608
                args,
            ).fetchone()[0]
        )
        items = store.conn.execute(
            f"SELECT idx, sku, status, product_id, reasons FROM batch_items WHERE {where} "  # noqa: S608
            "ORDER BY idx LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
    out["items"] = [
        {
            "index": idx,
            "sku": sku,
            "status": item_status,
            "product_id": pid,
            "reasons": loads_or_raw(reasons),
        }
        for idx, sku, item_status, pid, reasons in items
    ]
    out["total_items"] = total
    out["offset"] = offset
    out["limit"] = limit
    out["next_offset"] = offset + limit if offset + limit < total else None
    return out


def listing(store: MarketStore, *, limit: int = 100, status: str | None = None) -> list[Any]:
    where, args = ("status = ?", [status]) if status else ("1=1", [])
    with store.lock:
        rows = store.conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM batches WHERE {where} "  # noqa: S608
            "ORDER BY seq DESC LIMIT ?",
            [*args, limit],
        ).fetchall()
    return [_summary_wire(store, row) for row in rows]
