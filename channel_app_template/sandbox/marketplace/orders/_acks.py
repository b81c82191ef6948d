"""The bulk acknowledgement of orders, order events and claims (one rule for the three)."""

# SQL here is built only from constants in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._schema import chunks
from ._wire import parse_id, reason, results_body

if TYPE_CHECKING:
    from ..store import MarketStore


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
