"""The order-line state machine: lines of an order for an action, forward-only moves.

What the seller's updates, the marketplace's changes and approved claims share: a line moves
only forward, cancelled and returned units are counted, and the order's status follows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import api_error
from ._schema import (
    CANCELLABLE,
    CANCELLED,
    DELIVERED,
    LINE_STATUSES,
    RANK,
    RETURNED,
    SHIPPED,
)
from ._wire import line_id, parse_id, reason


def refresh_order_status(conn: sqlite3.Connection, seq: int, now: float) -> None:
    rows = conn.execute(
        "SELECT status, quantity, cancelled_quantity, returned_quantity FROM order_lines "
        "WHERE order_seq = ?",
        (seq,),
    ).fetchall()
    live = [status for status, qty, cancelled, returned in rows if qty - cancelled - returned > 0]
    if live:
        status = min(live, key=lambda s: RANK.get(s, 0))
    elif any(returned for _, _, _, returned in rows):
        status = RETURNED
    else:
        status = CANCELLED
    conn.execute(
        "UPDATE orders SET status = ?, updated_at = ? WHERE seq = ?",
        (status, now, seq),
    )


@dataclass
class Line:
    seq: int
    order_seq: int
    quantity: int
    cancelled: int
    returned: int
    status: str
    tracking: str | None

    @property
    def remaining(self) -> int:
        return self.quantity - self.cancelled - self.returned


def lines_of(conn: sqlite3.Connection, order_seq: int) -> dict[int, Line]:
    """The order's lines for an action; a line whose stored quantities are not whole numbers
    (a planted bad row) makes the order not editable (409), never a server error."""
    lines: dict[int, Line] = {}
    for row in conn.execute(
        "SELECT seq, order_seq, quantity, cancelled_quantity, returned_quantity, status, "
        "tracking_number FROM order_lines WHERE order_seq = ? ORDER BY seq",
        (order_seq,),
    ):
        if not all(type(value) is int for value in row[2:5]) or row[5] not in LINE_STATUSES:
            raise api_error(
                409, "order_not_editable", "This order has a line with unreadable values."
            )
        lines[row[0]] = Line(*row)
    return lines


def order_row(conn: sqlite3.Connection, oid: Any) -> tuple[int, str, str | None, bool] | None:
    """(seq, number, tracking_number, malformed) of an order id, or None."""
    seq = parse_id(oid, "MO")
    if seq is None:
        return None
    row = conn.execute(
        "SELECT seq, number, tracking_number, malformed IS NOT NULL FROM orders WHERE seq = ?",
        (seq,),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), row[2], bool(row[3]))


def set_cancelled(line: Line, total: int) -> None:
    line.cancelled = total
    if line.remaining <= 0:
        line.status = CANCELLED if line.returned == 0 else RETURNED


def save_lines(conn: sqlite3.Connection, lines: Iterable[Line], now: float) -> None:
    conn.executemany(
        "UPDATE order_lines SET status = ?, cancelled_quantity = ?, returned_quantity = ?, "
        "updated_at = ? WHERE seq = ?",
        [(ln.status, ln.cancelled, ln.returned, now, ln.seq) for ln in lines],
    )


def order_for_action(conn: sqlite3.Connection, oid: str) -> int:
    found = order_row(conn, oid)
    if found is None:
        raise api_error(404, "not_found", "No such order.")
    if found[3]:
        raise api_error(409, "order_not_editable", "This order is malformed; it has no lines.")
    return found[0]


def pick_line(lines: dict[int, Line], value: Any, where: str) -> Line:
    seq = parse_id(value, "ML")
    if seq is None or seq not in lines:
        raise api_error(404, "unknown_line", f"{where}: no such line in this order.")
    return lines[seq]


def apply_status(
    line: Line, target: str, tracking: str | None, notes: list[str], reasons: list[Any], where: str
) -> None:
    """Move one line to ``target`` by the forward-only rules (see the package docstring)."""
    name = line_id(line.seq)
    if target == CANCELLED:
        if line.status in (CANCELLED, RETURNED):
            return
        if line.status not in CANCELLABLE:
            reasons.append(
                reason(
                    "invalid_transition",
                    where,
                    f"line {name} is {line.status}; shipped lines are returned, not cancelled",
                )
            )
            return
        set_cancelled(line, line.quantity - line.returned)
        return
    if line.status in (CANCELLED, RETURNED):
        reasons.append(
            reason("invalid_transition", where, f"line {name} is {line.status} (terminal)")
        )
        return
    if RANK[target] <= RANK[line.status]:
        if RANK[target] < RANK[line.status]:
            notes.append(f"line {name} is already {line.status}; {target} ignored")
        return
    if target in (SHIPPED, DELIVERED) and not (tracking or line.tracking):
        reasons.append(
            reason("missing_field", "tracking_number", f"{target} needs a tracking number")
        )
        return
    line.status = target
