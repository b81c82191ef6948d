"""What the seller pulls and acknowledges: the feeds' pages, the bulk acknowledgement.

Orders, order events and claims are acknowledged by one rule; events and claims are paged by
one rule (orders have their own listing, in ``_reading.py``).
"""

# SQL here is built only from constants in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._schema import ack_clause, chunks
from ._wire import parse_id, reason, results_body

if TYPE_CHECKING:
    from ..store import MarketStore


@dataclass(frozen=True)
class Feed:
    """A feed the seller pages through: ``select`` reads its table as ``alias`` (seq first),
    joined to the orders; a listing may filter on ``column``; ``wire`` makes a row an item."""

    select: str
    alias: str
    column: str
    wire: Callable[[MarketStore, tuple[Any, ...]], dict[str, Any]]

    def one(self, store: MarketStore, seq: int) -> dict[str, Any] | None:
        with store.lock:
            row = store.conn.execute(
                f"{self.select}WHERE {self.alias}.seq = ?",
                (seq,),
            ).fetchone()
        return None if row is None else self.wire(store, row)

    def page(
        self,
        store: MarketStore,
        value: str | None,
        *,
        acknowledged: bool | None,
        after: int,
        limit: int,
    ) -> dict[str, Any]:
        """Keyset-paged, oldest first; ``value`` (None: any) is what ``column`` must be."""
        alias = self.alias
        where = [
            ack_clause(acknowledged).replace("acknowledged_at", f"{alias}.acknowledged_at"),
            f"{alias}.seq > ?",
        ]
        args: list[Any] = [after]
        if value:
            where.append(f"{alias}.{self.column} = ?")
            args.append(value)
        with store.lock:
            rows = store.conn.execute(
                f"{self.select}WHERE {' AND '.join(where)} ORDER BY {alias}.seq LIMIT ?",
                [*args, limit + 1],
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [self.wire(store, row) for row in rows],
            "limit": limit,
            "next_cursor": str(rows[-1][0]) if more else None,
        }


def acknowledge(store: MarketStore, table: str, prefix: str, ids: list[Any]) -> dict[str, Any]:
    """Bulk, idempotent: acknowledging twice is accepted twice; unknown ids are rejected."""
    key = {"orders": "order_id", "order_events": "event_id", "claims": "claim_id"}[table]
    results: list[dict[str, Any]] = []
    wanted: dict[int, list[int]] = {}
    for index, item in enumerate(ids):
        value = item.get(key) if isinstance(item, dict) else None
        seq = parse_id(value, prefix)
        results.append({"index": index, key: value, "status": "accepted", "reasons": []})
        if seq is None:
            results[index].update(
                status="rejected", reasons=[reason("invalid_id", key, f"{key} is not valid")]
            )
        else:
            wanted.setdefault(seq, []).append(index)
    now = store.clock()
    with store.tx() as conn:
        found: set[int] = set()
        for part in chunks(list(wanted)):
            marks = ", ".join("?" * len(part))
            found.update(
                int(r[0])
                for r in conn.execute(f"SELECT seq FROM {table} WHERE seq IN ({marks})", part)
            )
            conn.execute(
                f"UPDATE {table} SET acknowledged_at = ? "
                f"WHERE acknowledged_at IS NULL AND seq IN ({marks})",
                [now, *part],
            )
    for seq, indexes in wanted.items():
        if seq not in found:
            for index in indexes:
                results[index].update(
                    status="rejected",
                    reasons=[reason(f"unknown_{key[:-3]}", key, f"no such {key[:-3]}")],
                )
    return results_body(results)
