"""How orders look on the wire: ids, money, order and line payloads, per-item results.

Pure conversions from stored rows, shared by the listing, the events, the claims and the
generator (which stores the broken payload of a malformed order).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import decimal_or_none, loads_or_raw, plain

if TYPE_CHECKING:
    from ..store import MarketStore

CENT = Decimal("0.01")


def order_id(seq: int) -> str:
    return f"MO{seq:08d}"


def line_id(seq: int) -> str:
    return f"ML{seq:08d}"


def event_id(seq: int) -> str:
    return f"EV{seq:08d}"


def claim_id(seq: int) -> str:
    return f"CL{seq:08d}"


def parse_id(value: Any, prefix: str) -> int | None:
    """``MO00000042`` -> 42 (for the given two-letter prefix); anything else -> None."""
    if (
        isinstance(value, str)
        and len(value) == 10
        and value.startswith(prefix)
        and value[2:].isdigit()
    ):
        return int(value[2:])
    return None


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def money_or_none(value: Decimal | None) -> str | None:
    """``money`` of a computed total, or None when a stored part of it was not a number."""
    if value is None:
        return None
    try:
        return money(value)
    except ArithmeticError:
        return None


def reason(code: str, field_name: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field_name, "message": message}


def results_body(results: list[dict[str, Any]]) -> dict[str, Any]:
    accepted = sum(1 for r in results if r["status"] == "accepted")
    return {"accepted_count": accepted, "rejected_count": len(results) - accepted, "items": results}


ORDER_COLUMNS = (
    "seq, number, status, currency, customer, shipping_address, billing_address, cargo_code, "
    "shipping_amount, discount_amount, tracking_number, invoice_number, invoice_date, "
    "malformed, created_at, updated_at, acknowledged_at"
)
LINE_COLUMNS = (
    "seq, order_seq, sku, product_id, title, quantity, cancelled_quantity, returned_quantity, "
    "unit_price, list_price, discount_amount, tax_rate, status, tracking_number, "
    "invoice_number, invoice_date"
)


def _line_total(unit: Any, quantity: Any) -> str | None:
    """A bad stored price or quantity (a bad row) leaves the total unknown (null): the line is
    still listed, with its raw values, for the seller to refuse."""
    price = decimal_or_none(unit)
    if price is None or type(quantity) is not int:
        return None
    try:
        return money_or_none(price * quantity)
    except ArithmeticError:
        return None


def _line_wire(row: tuple[Any, ...], currency: str) -> dict[str, Any]:
    (
        seq,
        _order,
        sku,
        pid,
        title,
        quantity,
        cancelled,
        returned,
        unit,
        listed,
        discount,
        tax,
        status,
        tracking,
        invoice,
        invoice_date,
    ) = row
    out = {
        "line_id": line_id(seq),
        "sku": sku,
        "product_id": pid,
        "title": title,
        "quantity": quantity,
        "cancelled_quantity": cancelled,
        "returned_quantity": returned,
        "unit_price": unit,
        "list_price": listed,
        "discount_amount": discount,
        "tax_rate": tax,
        "currency": currency,
        "line_total": _line_total(unit, quantity),
        "status": status,
        "tracking_number": tracking,
        "invoice_number": invoice,
        "invoice_date": invoice_date,
    }
    return {key: plain(value) for key, value in out.items()}


def order_wire(
    store: MarketStore, row: tuple[Any, ...], lines: list[tuple[Any, ...]]
) -> dict[str, Any]:
    (
        seq,
        number,
        status,
        currency,
        customer,
        shipping,
        billing,
        cargo,
        shipping_amount,
        discount,
        tracking,
        invoice,
        invoice_date,
        _malformed,
        created,
        updated,
        acked,
    ) = row
    line_wires = [_line_wire(line, currency) for line in lines]
    totals = [decimal_or_none(line["line_total"]) for line in line_wires]
    subtotal = None if None in totals else sum((t for t in totals if t), Decimal(0))
    ship, off = decimal_or_none(shipping_amount), decimal_or_none(discount)
    grand = None if subtotal is None or ship is None or off is None else subtotal + ship - off
    return {
        "id": order_id(seq),
        "number": plain(number),
        "status": plain(status),
        "created_at": store.iso(created),
        "updated_at": store.iso(updated),
        "acknowledged": acked is not None,
        "currency": plain(currency),
        "customer": loads_or_raw(customer),
        "shipping_address": loads_or_raw(shipping),
        "billing_address": loads_or_raw(billing),
        "cargo_code": plain(cargo),
        "tracking_number": plain(tracking),
        "invoice_number": plain(invoice),
        "invoice_date": plain(invoice_date),
        "totals": {
            "subtotal": money_or_none(subtotal),
            "shipping": plain(shipping_amount),
            "discount": plain(discount),
            "grand_total": money_or_none(grand),
        },
        "lines": line_wires,
    }
