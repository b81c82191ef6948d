"""``/_sandbox/orders/counts/``: what is stored, for people and tests to inspect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import MarketStore


def counts(store: MarketStore) -> dict[str, Any]:
    with store.lock:
        one = store.conn.execute
        by_status = dict(one("SELECT status, COUNT(*) FROM orders GROUP BY status").fetchall())
        by_kind = dict(one("SELECT kind, COUNT(*) FROM orders GROUP BY kind").fetchall())
        total, acked = one("SELECT COUNT(*), COUNT(acknowledged_at) FROM orders").fetchone()
        events = {
            kind: {"total": n, "acknowledged": a}
            for kind, n, a in one(
                "SELECT type, COUNT(*), COUNT(acknowledged_at) FROM order_events GROUP BY type"
            )
        }
        claims_total, claims_acked = one(
            "SELECT COUNT(*), COUNT(acknowledged_at) FROM claims"
        ).fetchone()
        claims_by_status = dict(
            one("SELECT status, COUNT(*) FROM claims GROUP BY status").fetchall()
        )
        lines, units, cancelled, returned = one(
            "SELECT COUNT(*), COALESCE(SUM(quantity), 0), COALESCE(SUM(cancelled_quantity), 0), "
            "COALESCE(SUM(returned_quantity), 0) FROM order_lines"
        ).fetchone()
    return {
        "orders": int(total),
        "acknowledged": int(acked),
        "unacknowledged": int(total) - int(acked),
        "by_status": by_status,
        "by_kind": by_kind,
        "lines": int(lines),
        "units": int(units),
        "cancelled_units": int(cancelled),
        "returned_units": int(returned),
        "events": events,
        "claims": {
            "total": int(claims_total),
            "acknowledged": int(claims_acked),
            "by_status": claims_by_status,
        },
    }
