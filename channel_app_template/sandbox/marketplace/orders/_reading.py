"""Reading orders: wire payloads of stored orders, the keyset-paged listing, one order."""

# SQL here is built only from constants in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import loads_or_raw

from ._schema import ack_clause, chunks
from ._wire import LINE_COLUMNS, ORDER_COLUMNS, order_wire, parse_id

if TYPE_CHECKING:
    from ..store import MarketStore


def order_wires(
    store: MarketStore, conn: sqlite3.Connection, seqs: Sequence[int], *, raw: bool = False
) -> dict[int, Any]:
    """seq -> wire order (the broken payload for malformed orders unless ``raw``)."""
    out: dict[int, Any] = {}
    for part in chunks(seqs):
        marks = ", ".join("?" * len(part))
        rows = conn.execute(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE seq IN ({marks})", list(part)
        ).fetchall()
        lines: dict[int, list[tuple[Any, ...]]] = {}
        for line in conn.execute(
            f"SELECT {LINE_COLUMNS} FROM order_lines WHERE order_seq IN ({marks}) ORDER BY seq",
            list(part),
        ):
            lines.setdefault(line[1], []).append(line)
        for row in rows:
            if row[13] is not None and not raw:
                out[row[0]] = loads_or_raw(row[13])
            else:
                out[row[0]] = order_wire(store, row, lines.get(row[0], []))
    return out


def list_orders(
    store: MarketStore,
    *,
    acknowledged: bool | None,
    status: str | None,
    numbers: Sequence[str],
    after: int,
    limit: int,
) -> dict[str, Any]:
    """Oldest first, keyset-paged: ``next_cursor`` stays valid while orders are acknowledged."""
    where = [ack_clause(acknowledged), "seq > ?"]
    args: list[Any] = [after]
    if status:
        where.append("status = ?")
        args.append(status)
    if numbers:
        where.append(f"number IN ({', '.join('?' * len(numbers))})")
        args += list(numbers)
    with store.lock:
        seqs = [
            int(r[0])
            for r in store.conn.execute(
                f"SELECT seq FROM orders WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
                [*args, limit + 1],
            )
        ]
        more = len(seqs) > limit
        seqs = seqs[:limit]
        wires = order_wires(store, store.conn, seqs)
    return {
        "items": [wires[s] for s in seqs],
        "limit": limit,
        "next_cursor": str(seqs[-1]) if more else None,
    }


def get_order(store: MarketStore, oid: str, *, raw: bool = False) -> Any | None:
    seq = parse_id(oid, "MO")
    if seq is None:
        return None
    with store.lock:
        return order_wires(store, store.conn, [seq], raw=raw).get(seq)
