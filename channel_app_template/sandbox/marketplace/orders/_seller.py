"""``PUT /orders/status``: the seller's absolute per-order updates, each whole or not at all."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ._lines import (
    apply_status,
    lines_of,
    order_row,
    refresh_order_status,
    save_lines,
    set_cancelled,
)
from ._schema import CANCELLABLE, CANCELLED, CARGO_CODES, RETURNED, SELLER_STATUSES
from ._wire import line_id, parse_id, reason, results_body

if TYPE_CHECKING:
    from ..store import MarketStore


def _text(item: dict[str, Any], name: str, reasons: list[dict[str, Any]], limit: int) -> Any:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        reasons.append(
            reason("invalid_value", name, f"{name} must be a non-empty string <= {limit}")
        )
        return None
    return value.strip()


def update_statuses(store: MarketStore, items: list[Any]) -> dict[str, Any]:
    """``PUT /orders/status``: absolute per-order updates, each applied whole or not at all."""
    results: list[dict[str, Any]] = []
    now = store.clock()
    with store.tx() as conn:
        for index, item in enumerate(items):
            results.append(_update_one(conn, index, item, now))
    return results_body(results)


def _update_one(conn: sqlite3.Connection, index: int, item: Any, now: float) -> dict[str, Any]:
    result: dict[str, Any] = {
        "index": index,
        "order_id": None,
        "number": None,
        "status": "rejected",
        "reasons": [],
        "notes": [],
    }
    reasons: list[dict[str, Any]] = result["reasons"]
    notes: list[str] = result["notes"]
    if not isinstance(item, dict):
        reasons.append(reason("invalid_item", None, "each item must be an object"))
        return result
    result["order_id"] = item.get("order_id")
    found = order_row(conn, item.get("order_id"))
    if found is None:
        reasons.append(reason("unknown_order", "order_id", "no such order"))
        return result
    seq, number, order_tracking, malformed = found
    result["number"] = number
    if malformed:
        reasons.append(reason("order_not_editable", "order_id", "this order cannot be updated"))
        return result
    tracking = _text(item, "tracking_number", reasons, 64)
    invoice = _text(item, "invoice_number", reasons, 64)
    invoice_date = _text(item, "invoice_date", reasons, 40)
    cargo = _text(item, "cargo_code", reasons, 32)
    if cargo is not None and cargo not in CARGO_CODES:
        reasons.append(reason("unknown_cargo", "cargo_code", f"unknown cargo code {cargo!r}"))
    status = item.get("status")
    if status is not None and status not in SELLER_STATUSES:
        reasons.append(
            reason("invalid_value", "status", f"status must be one of {list(SELLER_STATUSES)}")
        )
    try:
        lines = lines_of(conn, seq)
    except ApiError as exc:  # one unreadable order is one rejected item
        reasons.append(reason("order_not_editable", "order_id", str(exc.body["error"]["message"])))
        return result
    tracking = tracking or order_tracking
    line_items = item.get("lines") or []
    if not isinstance(line_items, list):
        reasons.append(reason("invalid_value", "lines", "lines must be a list"))
        line_items = []
    if reasons:
        return result
    if status is not None:
        for each in lines.values():
            if each.status in (CANCELLED, RETURNED) and status != CANCELLED:
                continue  # an order-wide status skips finished lines
            apply_status(each, status, tracking, notes, reasons, "status")
    seen: set[int] = set()
    for n, entry in enumerate(line_items):
        where = f"lines[{n}]"
        if not isinstance(entry, dict):
            reasons.append(reason("invalid_item", where, "each line must be an object"))
            continue
        lseq = parse_id(entry.get("line_id"), "ML")
        line = lines.get(lseq) if lseq is not None else None
        if line is None:
            reasons.append(reason("unknown_line", f"{where}.line_id", "no such line here"))
            continue
        if line.seq in seen:
            reasons.append(reason("duplicate_line", f"{where}.line_id", "line appears twice"))
            continue
        seen.add(line.seq)
        cancelled = entry.get("cancelled_quantity")
        if cancelled is not None:
            if isinstance(cancelled, bool) or not isinstance(cancelled, int) or cancelled < 0:
                reasons.append(reason("invalid_value", f"{where}.cancelled_quantity", ">= 0"))
            elif cancelled > line.quantity - line.returned:
                reasons.append(
                    reason(
                        "invalid_quantity",
                        f"{where}.cancelled_quantity",
                        f"line {line_id(line.seq)} has {line.quantity - line.returned} units",
                    )
                )
            elif cancelled > line.cancelled:
                if line.status not in CANCELLABLE:
                    reasons.append(
                        reason(
                            "invalid_transition",
                            f"{where}.cancelled_quantity",
                            f"line {line_id(line.seq)} is {line.status}",
                        )
                    )
                else:
                    set_cancelled(line, cancelled)
            elif cancelled < line.cancelled:
                notes.append(f"line {line_id(line.seq)} has {line.cancelled} cancelled units; kept")
        line_status = entry.get("status")
        if line_status is not None:
            if line_status not in SELLER_STATUSES:
                reasons.append(reason("invalid_value", f"{where}.status", "unknown status"))
            else:
                apply_status(line, line_status, tracking, notes, reasons, f"{where}.status")
    if reasons:
        result["notes"] = []
        return result
    save_lines(conn, lines.values(), now)
    conn.execute(
        "UPDATE orders SET tracking_number = COALESCE(?, tracking_number), "
        "invoice_number = COALESCE(?, invoice_number), invoice_date = COALESCE(?, invoice_date), "
        "cargo_code = COALESCE(?, cargo_code), updated_at = ? WHERE seq = ?",
        (tracking, invoice, invoice_date, cargo, now, seq),
    )
    if tracking or invoice:
        conn.execute(
            "UPDATE order_lines SET tracking_number = COALESCE(tracking_number, ?), "
            "invoice_number = COALESCE(invoice_number, ?) WHERE order_seq = ?",
            (tracking, invoice, seq),
        )
    refresh_order_status(conn, seq, now)
    result["status"] = "accepted"
    return result
