"""Claims: buyers' cancellation and return requests, pulled, then approved or rejected."""

# SQL here is built only from constants in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import api_error
from ._feeds import Feed
from ._lines import (
    lines_of,
    order_for_action,
    pick_line,
    refresh_order_status,
    save_lines,
    set_cancelled,
)
from ._schema import (
    CANCELLABLE,
    CLAIM_APPROVED,
    CLAIM_TYPES,
    CLAIM_WAITING,
    DECISIONS,
    DELIVERED,
    RETURNED,
    SHIPPED,
    reason_code,
)
from ._wire import claim_id, line_id, order_id, parse_id

if TYPE_CHECKING:
    from ..store import MarketStore


CLAIM_COLUMNS = (
    "c.seq, c.order_seq, o.number, c.line_seq, c.type, c.quantity, c.reason_code, "
    "c.description, c.status, c.decision_note, c.created_at, c.decided_at, c.acknowledged_at"
)
CLAIM_SELECT = f"SELECT {CLAIM_COLUMNS} FROM claims c JOIN orders o ON o.seq = c.order_seq "


def _claim_wire(store: MarketStore, row: tuple[Any, ...]) -> dict[str, Any]:
    (seq, order_seq, number, lseq, kind, qty, code, desc, status, note, created, decided, acked) = (
        row
    )
    return {
        "id": claim_id(seq),
        "order_id": order_id(order_seq),
        "order_number": number,
        "line_id": line_id(lseq),
        "type": kind,
        "quantity": qty,
        "reason_code": code,
        "description": desc,
        "status": status,
        "decision_note": note,
        "created_at": store.iso(created),
        "decided_at": None if decided is None else store.iso(decided),
        "acknowledged": acked is not None,
    }


CLAIMS = Feed(CLAIM_SELECT, "c", "status", _claim_wire)


def get_claim(store: MarketStore, cid: Any) -> dict[str, Any] | None:
    seq = parse_id(cid, "CL")
    if seq is None:
        return None
    return CLAIMS.one(store, seq)


def list_claims(
    store: MarketStore, *, acknowledged: bool | None, status: str | None, after: int, limit: int
) -> dict[str, Any]:
    return CLAIMS.page(store, status, acknowledged=acknowledged, after=after, limit=limit)


def _claimed(conn: sqlite3.Connection, line_seq: int) -> int:
    return int(
        conn.execute(
            "SELECT COALESCE(SUM(quantity), 0) FROM claims WHERE line_seq = ? AND status = ?",
            (line_seq, CLAIM_WAITING),
        ).fetchone()[0]
    )


def create_claim(store: MarketStore, oid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A buyer asks to cancel (``type: cancel``, before shipping) or return (``return``, once
    shipped) ``quantity`` units of a line; waiting claims count against what is left."""
    now = store.clock()
    kind = body.get("type", "return")
    if kind not in CLAIM_TYPES:
        raise api_error(400, "invalid_request", f"type must be one of {list(CLAIM_TYPES)}.")
    code = reason_code(
        body.get("reason_code"), "changed_mind" if kind == "cancel" else "damaged_item"
    )
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        raise api_error(400, "invalid_request", "description is a string of <= 500 chars.")
    with store.tx() as conn:
        seq = order_for_action(conn, oid)
        lines = lines_of(conn, seq)
        line = pick_line(lines, body.get("line_id"), "line_id")
        if kind == "cancel" and line.status not in CANCELLABLE:
            raise api_error(409, "invalid_transition", f"the line is {line.status}; return it.")
        if kind == "return" and line.status not in (SHIPPED, DELIVERED):
            raise api_error(409, "invalid_transition", f"the line is {line.status}; not shipped.")
        left = line.remaining - _claimed(conn, line.seq)
        quantity = body.get("quantity", 1)
        if not isinstance(quantity, int) or not 1 <= quantity <= left:
            raise api_error(
                409, "invalid_quantity", f"quantity must be within [1, {max(left, 0)}]."
            )
        cursor = conn.execute(
            "INSERT INTO claims (order_seq, line_seq, type, quantity, reason_code, description, "
            "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, line.seq, kind, quantity, code, description, CLAIM_WAITING, now),
        )
        cseq = int(cursor.lastrowid or 0)
    found = get_claim(store, claim_id(cseq))
    assert found is not None
    return found


def decide_claim(store: MarketStore, cid: str, body: Any) -> dict[str, Any]:
    """``{"decision": "approve"|"reject", "note"?}``; the same decision again is a no-op, the
    other one a 409 ``claim_already_decided``. Approving moves the units to cancelled (cancel
    claims) or returned (return claims)."""
    if not isinstance(body, dict) or body.get("decision") not in DECISIONS:
        raise api_error(400, "invalid_request", 'decision must be "approve" or "reject".')
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise api_error(400, "invalid_request", "note is a string of <= 500 chars.")
    target = DECISIONS[body["decision"]]
    seq = parse_id(cid, "CL")
    now = store.clock()
    with store.tx() as conn:
        row = (
            None
            if seq is None
            else conn.execute(
                "SELECT order_seq, line_seq, type, quantity, status FROM claims WHERE seq = ?",
                (seq,),
            ).fetchone()
        )
        if row is None:
            raise api_error(404, "not_found", "No such claim.")
        order_seq, line_seq, kind, quantity, status = row
        if status == target:
            pass  # idempotent repeat
        elif status != CLAIM_WAITING:
            raise api_error(
                409,
                "claim_already_decided",
                f"This claim is already {status}.",
                {"status": status},
            )
        else:
            conn.execute(
                "UPDATE claims SET status = ?, decision_note = ?, decided_at = ? WHERE seq = ?",
                (target, note, now, seq),
            )
            if target == CLAIM_APPROVED:
                line = lines_of(conn, order_seq)[line_seq]
                units = min(quantity, line.remaining)
                if kind == "cancel":
                    set_cancelled(line, line.cancelled + units)
                else:
                    line.returned += units
                    if line.remaining <= 0:
                        line.status = RETURNED
                save_lines(conn, [line], now)
                refresh_order_status(conn, order_seq, now)
    found = get_claim(store, cid)
    assert found is not None
    return found
