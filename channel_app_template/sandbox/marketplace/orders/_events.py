"""Order events: what the marketplace itself changes (``line_update``, ``cancellation``).

The marketplace-side actions (``/_sandbox/orders/<id>/cancel|update``) record the events the
seller pulls and acknowledges from ``/order-events``.
"""

# SQL here is built only from constants in this package; values are bound.
from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import loads_or_raw

from ..errors import api_error
from ._feeds import Feed
from ._lines import (
    Line,
    lines_of,
    order_for_action,
    pick_line,
    refresh_order_status,
    save_lines,
    set_cancelled,
)
from ._schema import (
    CANCELLABLE,
    CANCELLED,
    CARGO_CODES,
    PROGRESS,
    RANK,
    RETURNED,
    reason_code,
)
from ._wire import event_id, line_id, order_id, parse_id

if TYPE_CHECKING:
    from ..store import MarketStore


EVENT_SELECT = (
    "SELECT e.seq, e.type, e.order_seq, o.number, e.data, e.created_at, "
    "e.acknowledged_at FROM order_events e JOIN orders o ON o.seq = e.order_seq "
)


def _event_wire(store: MarketStore, row: tuple[Any, ...]) -> dict[str, Any]:
    seq, kind, order_seq, number, data, created, acked = row
    return {
        "id": event_id(seq),
        "type": kind,
        "order_id": order_id(order_seq),
        "order_number": number,
        "created_at": store.iso(created),
        "acknowledged": acked is not None,
        **_event_data(data),
    }


def _event_data(data: Any) -> dict[str, Any]:
    loaded = loads_or_raw(data)
    return loaded if isinstance(loaded, dict) else {"data": loaded}


EVENTS = Feed(EVENT_SELECT, "e", "type", _event_wire)


def _add_event(
    conn: sqlite3.Connection, kind: str, order_seq: int, data: dict[str, Any], now: float
) -> int:
    cursor = conn.execute(
        "INSERT INTO order_events (type, order_seq, data, created_at) VALUES (?, ?, ?, ?)",
        (kind, order_seq, json.dumps(data), now),
    )
    return int(cursor.lastrowid or 0)


def list_events(
    store: MarketStore, *, kind: str | None, acknowledged: bool | None, after: int, limit: int
) -> dict[str, Any]:
    return EVENTS.page(store, kind, acknowledged=acknowledged, after=after, limit=limit)


def cancel_lines(store: MarketStore, oid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The marketplace cancels units (``lines: [{line_id, quantity?, reason_code?}]``; no
    ``lines``: every remaining unit). One ``cancellation`` event is recorded."""
    now = store.clock()
    default_reason = reason_code(body.get("reason_code"), "out_of_stock")
    with store.tx() as conn:
        seq = order_for_action(conn, oid)
        lines = lines_of(conn, seq)
        wanted = body.get("lines")
        if wanted is None:
            wanted = [
                {"line_id": line_id(ln.seq)}
                for ln in lines.values()
                if ln.remaining > 0 and ln.status in CANCELLABLE
            ]
        if not isinstance(wanted, list) or not wanted:
            raise api_error(409, "nothing_to_cancel", "No cancellable units in this order.")
        data_lines: list[dict[str, Any]] = []
        touched: dict[int, Line] = {}
        for n, entry in enumerate(wanted):
            if not isinstance(entry, dict):
                raise api_error(400, "invalid_request", f"lines[{n}] must be an object.")
            line = pick_line(lines, entry.get("line_id"), f"lines[{n}]")
            if line.seq in touched:
                raise api_error(400, "invalid_request", f"lines[{n}]: line appears twice.")
            quantity = entry.get("quantity", line.remaining)
            if not isinstance(quantity, int) or not 1 <= quantity <= line.remaining:
                raise api_error(
                    409,
                    "invalid_quantity",
                    f"lines[{n}]: quantity must be within [1, {line.remaining}].",
                )
            if line.status not in CANCELLABLE:
                raise api_error(
                    409, "invalid_transition", f"lines[{n}]: the line is {line.status}."
                )
            set_cancelled(line, line.cancelled + quantity)
            touched[line.seq] = line
            data_lines.append(
                {
                    "line_id": line_id(line.seq),
                    "quantity": quantity,
                    "cancelled_quantity": line.cancelled,
                    "line_quantity": line.quantity,
                    "reason_code": reason_code(entry.get("reason_code"), default_reason),
                }
            )
        save_lines(conn, touched.values(), now)
        refresh_order_status(conn, seq, now)
        eseq = _add_event(conn, "cancellation", seq, {"lines": data_lines}, now)
    return _one_event(store, eseq)


def update_line(store: MarketStore, oid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The marketplace changes lines (``line_id`` or every live line): ``status``,
    ``tracking_number``, ``invoice_number``, ``invoice_date``, ``cargo_code``. One
    ``line_update`` event per line."""
    now = store.clock()
    status = body.get("status")
    if status is not None and status not in PROGRESS:
        raise api_error(400, "invalid_request", f"status must be one of {list(PROGRESS)}.")
    fields = {
        name: body.get(name)
        for name in ("tracking_number", "invoice_number", "invoice_date", "cargo_code")
    }
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise api_error(400, "invalid_request", f"{name} must be a string.")
    if fields["cargo_code"] is not None and fields["cargo_code"] not in CARGO_CODES:
        raise api_error(400, "unknown_cargo", "Unknown cargo code.")
    if status is None and not any(fields.values()):
        raise api_error(400, "invalid_request", "Nothing to change.")
    events: list[int] = []
    with store.tx() as conn:
        seq = order_for_action(conn, oid)
        lines = lines_of(conn, seq)
        if body.get("line_id") is not None:
            targets = [pick_line(lines, body["line_id"], "line_id")]
        else:
            targets = [ln for ln in lines.values() if ln.status not in (CANCELLED, RETURNED)]
        for line in targets:
            if status is not None:
                if line.status in (CANCELLED, RETURNED):
                    raise api_error(409, "invalid_transition", f"the line is {line.status}.")
                if RANK[status] > RANK[line.status]:
                    line.status = status
            conn.execute(
                "UPDATE order_lines SET status = ?, tracking_number = COALESCE(?, "
                "tracking_number), invoice_number = COALESCE(?, invoice_number), "
                "invoice_date = COALESCE(?, invoice_date), updated_at = ? WHERE seq = ?",
                (
                    line.status,
                    fields["tracking_number"],
                    fields["invoice_number"],
                    fields["invoice_date"],
                    now,
                    line.seq,
                ),
            )
            data = {"line_id": line_id(line.seq), "status": line.status, **fields}
            events.append(_add_event(conn, "line_update", seq, data, now))
        if fields["cargo_code"] or fields["tracking_number"]:
            conn.execute(
                "UPDATE orders SET cargo_code = COALESCE(?, cargo_code), "
                "tracking_number = COALESCE(tracking_number, ?) WHERE seq = ?",
                (fields["cargo_code"], fields["tracking_number"], seq),
            )
        refresh_order_status(conn, seq, now)
    return {"items": [_one_event(store, e) for e in events]}


def get_event(store: MarketStore, eid: Any) -> dict[str, Any] | None:
    """One event as ``GET /order-events`` lists it, or None."""
    seq = parse_id(eid, "EV")
    with store.lock:
        found = (
            None
            if seq is None
            else store.conn.execute("SELECT 1 FROM order_events WHERE seq = ?", (seq,)).fetchone()
        )
    return None if found is None or seq is None else _one_event(store, seq)


def _one_event(store: MarketStore, eseq: int) -> dict[str, Any]:
    found = EVENTS.one(store, eseq)
    assert found is not None
    return found
