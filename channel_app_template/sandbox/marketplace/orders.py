"""Orders, order events and claims: the marketplace side of a sale.

Model
-----
An order (``MO`` + 8 digits) has lines (``ML`` + 8 digits), each for ``quantity`` units of one
marketplace product (``product_id`` ``MPnnnnnnnn`` and the seller's ``sku``). Lines move
forward through ``created -> picking -> shipped -> delivered``; ``cancelled`` and ``returned``
are terminal. A line keeps ``cancelled_quantity`` and ``returned_quantity`` so part of a line
can be cancelled (1 of 3 units) while the rest ships. The order's ``status`` is derived from its
lines: the least advanced live line, or ``cancelled``/``returned`` when no unit is left.

Seller-facing flow
------------------
* New orders are listed until the seller **acknowledges** them (bulk, idempotent).
* The seller sends absolute updates (status, tracking, invoice, cargo, cancelled units) per
  order: re-sending the same update changes nothing; a status behind the current one is a
  no-op (``notes`` says so), never an error, so a late update cannot move a line back.
* What the marketplace itself changes becomes an **event** the seller pulls and acknowledges:
  ``line_update`` (status, tracking, invoice set by marketplace logistics) and
  ``cancellation`` (units cancelled by the marketplace or the buyer before shipping, with a
  reason code, quantity-aware: ``quantity`` cancelled now and ``cancelled_quantity`` in total).
* Buyers' cancellation and return requests are **claims** (``CL`` + 8 digits), pulled and
  acknowledged like events, then approved or rejected by the seller (idempotent; the other
  decision afterwards is a 409).

Orders are made by ``/_sandbox/orders/generate`` from products that exist here, optionally
with a fraction of bad ones (see :func:`generate`).
"""

# SQL here is built only from constants in this module; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random
from typing import TYPE_CHECKING, Any

from channel_app_template.sandbox.common.lenient import decimal_or_none, loads_or_raw, plain

from .errors import ApiError, api_error

if TYPE_CHECKING:
    from .store import MarketStore

DDL = (
    "CREATE TABLE IF NOT EXISTS orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "number TEXT UNIQUE NOT NULL, status TEXT NOT NULL, kind TEXT NOT NULL, "
    "currency TEXT NOT NULL, customer TEXT NOT NULL, shipping_address TEXT NOT NULL, "
    "billing_address TEXT NOT NULL, cargo_code TEXT NOT NULL, shipping_amount TEXT NOT NULL, "
    "discount_amount TEXT NOT NULL, tracking_number TEXT, invoice_number TEXT, "
    "invoice_date TEXT, malformed TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, "
    "acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_orders_unacked ON orders (acknowledged_at, seq)",
    "CREATE TABLE IF NOT EXISTS order_lines (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_seq INTEGER NOT NULL, sku TEXT NOT NULL, product_id TEXT NOT NULL, "
    "title TEXT NOT NULL, quantity INTEGER NOT NULL, cancelled_quantity INTEGER NOT NULL "
    "DEFAULT 0, returned_quantity INTEGER NOT NULL DEFAULT 0, unit_price TEXT NOT NULL, "
    "list_price TEXT NOT NULL, discount_amount TEXT NOT NULL, tax_rate TEXT NOT NULL, "
    "status TEXT NOT NULL, tracking_number TEXT, invoice_number TEXT, invoice_date TEXT, "
    "updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_order_lines_order ON order_lines (order_seq, seq)",
    "CREATE TABLE IF NOT EXISTS order_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "type TEXT NOT NULL, order_seq INTEGER NOT NULL, data TEXT NOT NULL, "
    "created_at REAL NOT NULL, acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_order_events_unacked ON order_events "
    "(type, acknowledged_at, seq)",
    "CREATE TABLE IF NOT EXISTS claims (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_seq INTEGER NOT NULL, line_seq INTEGER NOT NULL, type TEXT NOT NULL, "
    "quantity INTEGER NOT NULL, reason_code TEXT NOT NULL, description TEXT NOT NULL, "
    "status TEXT NOT NULL, decision_note TEXT, created_at REAL NOT NULL, "
    "decided_at REAL, acknowledged_at REAL)",
    "CREATE INDEX IF NOT EXISTS ix_claims_unacked ON claims (acknowledged_at, seq)",
)
DATA_TABLES = ("claims", "order_events", "order_lines", "orders")

CREATED, PICKING, SHIPPED, DELIVERED = "created", "picking", "shipped", "delivered"
CANCELLED, RETURNED = "cancelled", "returned"
PROGRESS = (CREATED, PICKING, SHIPPED, DELIVERED)
RANK = {status: rank for rank, status in enumerate(PROGRESS)}
LINE_STATUSES = (*PROGRESS, CANCELLED, RETURNED)
SELLER_STATUSES = (PICKING, SHIPPED, DELIVERED, CANCELLED)
CANCELLABLE = (CREATED, PICKING)
EVENT_TYPES = ("line_update", "cancellation")
CLAIM_TYPES = ("cancel", "return")
CLAIM_WAITING, CLAIM_APPROVED, CLAIM_REJECTED = "waiting", "approved", "rejected"
DECISIONS = {"approve": CLAIM_APPROVED, "reject": CLAIM_REJECTED}

# Cargo companies the marketplace knows. The Omnitron simulator seeds yurtici, aras and mng as
# cargo erp_codes; ptt and surat exist only here (orders with them test unknown cargos).
CARGO_CODES = ("yurtici", "aras", "mng", "ptt", "surat")
GOOD_CARGOS = ("yurtici", "aras", "mng")
UNKNOWN_CARGO = "surat"
# Reason codes; the comment is the Omnitron simulator's seeded cancellation reason (its pk).
REASON_CODES = (
    "changed_mind",  # 1 Customer changed their mind
    "out_of_stock",  # 2 Out of stock
    "payment_problem",  # 3 Payment problem
    "damaged_item",  # 4 Damaged item
    "wrong_item",  # 5 Wrong item sent
    "not_as_described",  # 6 Not as described
    "late_delivery",  # 7 Late delivery
    "size_problem",  # 8 Size problem
    "duplicate_order",  # 9 Duplicate order
    "other",  # 10 Other
)
CANCEL_REASONS = ("changed_mind", "out_of_stock", "payment_problem", "duplicate_order", "other")
RETURN_REASONS = ("damaged_item", "wrong_item", "not_as_described", "size_problem")
# Locations the Omnitron simulator seeds (country by code, the rest by name).
ADDRESSES = (
    ("Istanbul", "Kadikoy", "Moda", "34710"),
    ("Istanbul", "Kadikoy", "Fenerbahce", "34726"),
    ("Istanbul", "Besiktas", "Levent", "34330"),
    ("Istanbul", "Besiktas", "Etiler", "34337"),
    ("Ankara", "Cankaya", "Kizilay", "06420"),
    ("Ankara", "Cankaya", "Bahcelievler", "06490"),
    ("Izmir", "Konak", "Alsancak", "35220"),
    ("Izmir", "Konak", "Basmane", "35240"),
)
UNRESOLVABLE_ADDRESS = ("Atlantis", "Lost Township", "Sunken District", "99999")
FIRST_NAMES = ("Ayse", "Mehmet", "Elif", "Can", "Zeynep", "Emre", "Deniz", "Selin", "Ali", "Ece")
LAST_NAMES = ("Yilmaz", "Kaya", "Demir", "Sahin", "Celik", "Aydin", "Ozturk", "Arslan")
STREETS = ("Bagdat Cd.", "Ataturk Blv.", "Cumhuriyet Cd.", "Istiklal Cd.", "Gazi Blv.")
BAD_KINDS = ("unknown_product", "unknown_cargo", "unresolvable_address", "malformed")
MALFORMED_VARIANTS = (
    "missing_customer",
    "no_lines",
    "bad_quantity",
    "bad_price",
    "bad_date",
    "garbage",
)
TAX_RATE = "18"
SHIPPING_FEE = Decimal("29.90")
FREE_SHIPPING_FROM = Decimal("500")
CHUNK = 500
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


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _reason(code: str, field_name: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field_name, "message": message}


# ====================================================================== generation
@dataclass(frozen=True)
class GenerateSpec:
    count: int
    items_per_order: tuple[int, int] = (1, 3)
    max_quantity: int = 3
    seed: int = 0
    number_prefix: str = "MKT-"
    fractions: dict[str, float] = field(default_factory=dict)
    skus: tuple[str, ...] = ()

    @classmethod
    def parse(cls, body: Any) -> GenerateSpec:
        if not isinstance(body, dict):
            raise api_error(400, "invalid_request", "Expected an object.")
        count = body.get("count", 1)
        if not isinstance(count, int) or not 1 <= count <= 100_000:
            raise api_error(400, "invalid_request", "count must be an integer in [1, 100000].")
        per = body.get("items_per_order", [1, 3])
        if isinstance(per, int):
            per = [per, per]
        if (
            not isinstance(per, list)
            or len(per) != 2
            or not all(isinstance(n, int) for n in per)
            or not 1 <= per[0] <= per[1] <= 50
        ):
            raise api_error(
                400, "invalid_request", "items_per_order is n or [min, max] within 1..50."
            )
        max_quantity = body.get("max_quantity", 3)
        if not isinstance(max_quantity, int) or not 1 <= max_quantity <= 100:
            raise api_error(400, "invalid_request", "max_quantity must be in [1, 100].")
        seed = body.get("seed", 0)
        if not isinstance(seed, int):
            raise api_error(400, "invalid_request", "seed must be an integer.")
        prefix = body.get("number_prefix", "MKT-")
        if not isinstance(prefix, str) or len(prefix) > 40:
            raise api_error(400, "invalid_request", "number_prefix is a string of <= 40 chars.")
        raw_bad = body.get("bad") or {}
        if not isinstance(raw_bad, dict) or set(raw_bad) - set(BAD_KINDS):
            raise api_error(
                400, "invalid_request", f"bad is an object with keys among {list(BAD_KINDS)}."
            )
        fractions: dict[str, float] = {}
        for kind, value in raw_bad.items():
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise api_error(400, "invalid_request", f"bad.{kind} must be within [0, 1].")
            fractions[kind] = float(value)
        if sum(fractions.values()) > 1.0 + 1e-9:
            raise api_error(400, "invalid_request", "the bad fractions add up to more than 1.")
        skus = body.get("skus") or []
        if not isinstance(skus, list) or not all(isinstance(s, str) for s in skus):
            raise api_error(400, "invalid_request", "skus is a list of strings.")
        return cls(count, (per[0], per[1]), max_quantity, seed, prefix, fractions, tuple(skus))


def _kinds(spec: GenerateSpec, rng: Random) -> list[str]:
    """Exactly round(fraction * count) orders of each bad kind, at seeded positions."""
    kinds = ["good"] * spec.count
    positions = list(range(spec.count))
    rng.shuffle(positions)
    start = 0
    for kind in BAD_KINDS:
        n = round(spec.fractions.get(kind, 0.0) * spec.count)
        for index in positions[start : start + n]:
            kinds[index] = kind
        start += n
    return kinds


def generate(store: MarketStore, spec: GenerateSpec) -> dict[str, Any]:
    """Create ``spec.count`` orders from live products, in one transaction.

    The same seed on the same catalog gives the same orders (ids and numbers come from the
    row counters, so they stay unique). Bad kinds, at exactly ``round(fraction * count)``
    seeded positions:

    * ``unknown_product``: one line names a product id that does not exist (``MP9...``);
    * ``unknown_cargo``: cargo ``surat`` (known here, not an Omnitron cargo erp_code);
    * ``unresolvable_address``: city/township/district no Omnitron location lookup finds;
    * ``malformed``: the listing serves a broken payload (missing customer, no lines, a
      quantity or price that is not a number, a bad date, or garbage), never readable.
    """
    rng = Random(spec.seed)
    now = store.clock()
    with store.tx() as conn:
        where, args = "status = 'active'", []
        if spec.skus:
            where += f" AND sku IN ({', '.join('?' * len(spec.skus))})"
            args = list(spec.skus)
        products = conn.execute(
            f"SELECT id, sku, title, sale_price, list_price FROM products WHERE {where} "
            "ORDER BY id",
            args,
        ).fetchall()
        if not products:
            raise api_error(
                409, "no_products", "There are no live products to order; create some first."
            )
        kinds = _kinds(spec, rng)
        order_rows: list[tuple[Any, ...]] = []
        line_specs: list[list[tuple[Any, ...]]] = []
        malformed_variants: list[str | None] = []
        for index, kind in enumerate(kinds):
            # one millisecond apart, oldest first, the last one "now"
            placed = now - (len(kinds) - 1 - index) / 1000
            order_row, lines = _one_order(rng, spec, kind, products, placed, index)
            order_rows.append(order_row)
            line_specs.append(lines)
            malformed_variants.append(
                MALFORMED_VARIANTS[index % len(MALFORMED_VARIANTS)] if kind == "malformed" else None
            )
        first_seq: int | None = None
        created: dict[str, list[str]] = {kind: [] for kind in BAD_KINDS}
        line_rows: list[tuple[Any, ...]] = []
        for index, order_row in enumerate(order_rows):
            cursor = conn.execute(
                "INSERT INTO orders (number, status, kind, currency, customer, shipping_address, "
                "billing_address, cargo_code, shipping_amount, discount_amount, created_at, "
                "updated_at) VALUES ('?', 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                order_row,
            )
            seq = int(cursor.lastrowid or 0)
            if first_seq is None:
                first_seq = seq
            number = f"{spec.number_prefix}{seq:08d}"
            conn.execute("UPDATE orders SET number = ? WHERE seq = ?", (number, seq))
            if kinds[index] != "good":
                created[kinds[index]].append(number)
            line_rows.extend((seq, *line) for line in line_specs[index])
        conn.executemany(
            "INSERT INTO order_lines (order_seq, sku, product_id, title, quantity, unit_price, "
            "list_price, discount_amount, tax_rate, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?)",
            line_rows,
        )
        assert first_seq is not None
        last_seq = first_seq + len(order_rows) - 1
        broken = [
            (first_seq + index, variant)
            for index, variant in enumerate(malformed_variants)
            if variant is not None
        ]
        if broken:
            wires = _wires(store, conn, [s for s, _ in broken])
            conn.executemany(
                "UPDATE orders SET malformed = ? WHERE seq = ?",
                [
                    (json.dumps(_break(wires[s], variant), ensure_ascii=False), s)
                    for s, variant in broken
                ],
            )
    return {
        "created": len(order_rows),
        "first_order_id": order_id(first_seq),
        "last_order_id": order_id(last_seq),
        "bad": created,
    }


def _one_order(
    rng: Random,
    spec: GenerateSpec,
    kind: str,
    products: list[tuple[Any, ...]],
    now: float,
    index: int,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    serial = rng.randrange(10**6)
    email = f"{first.lower()}.{last.lower()}.{serial}@example.com"
    phone = f"+90555{rng.randrange(10**7):07d}"
    customer = {
        "id": f"C{rng.randrange(10**8):08d}",
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": phone,
    }
    city, township, district, postcode = (
        UNRESOLVABLE_ADDRESS if kind == "unresolvable_address" else rng.choice(ADDRESSES)
    )
    street = rng.choice(STREETS)
    shipping = {
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "country_code": "TR",
        "city": city,
        "township": township,
        "district": district,
        "address_line": f"{street} No:{rng.randrange(1, 200)} D:{rng.randrange(1, 30)}",
        "postcode": postcode,
    }
    billing = dict(shipping)
    if rng.random() < 0.2:
        billing.update(
            company_name=f"{last} Ltd.",
            tax_office="Kadikoy",
            tax_number=f"{rng.randrange(10**10):010d}",
        )
    cargo = UNKNOWN_CARGO if kind == "unknown_cargo" else rng.choice(GOOD_CARGOS)
    n_lines = rng.randint(*spec.items_per_order)
    picked = rng.sample(products, min(n_lines, len(products)))
    lines: list[tuple[Any, ...]] = []
    subtotal = Decimal(0)
    for row_id, sku, title, sale, listed in picked:
        quantity = rng.randint(1, spec.max_quantity)
        unit = Decimal(sale) if sale else Decimal(rng.randrange(1000, 50000)) / 100
        list_price = Decimal(listed) if listed else unit
        list_price = max(list_price, unit)
        subtotal += unit * quantity
        lines.append(
            (
                sku,
                f"MP{row_id:08d}",
                title,
                quantity,
                money(unit),
                money(list_price),
                "0.00",
                TAX_RATE,
                now,
            )
        )
    if kind == "unknown_product":
        line = list(lines[0])
        line[0] = f"GONE-{index:07d}"
        line[1] = f"MP9{rng.randrange(10**7):07d}"
        lines[0] = tuple(line)
    shipping_fee = Decimal(0) if subtotal >= FREE_SHIPPING_FROM else SHIPPING_FEE
    order_row = (
        kind,
        "TRY",
        json.dumps(customer),
        json.dumps(shipping),
        json.dumps(billing),
        cargo,
        money(shipping_fee),
        "0.00",
        now,
        now,
    )
    return order_row, lines


def _break(wire: dict[str, Any], variant: str) -> Any:
    """A payload the seller cannot read as an order (it keeps ``id`` and, mostly, ``number``)."""
    broken = json.loads(json.dumps(wire))
    if variant == "missing_customer":
        del broken["customer"]
        del broken["shipping_address"]
    elif variant == "no_lines":
        broken["lines"] = []
    elif variant == "bad_quantity":
        broken["lines"][0]["quantity"] = "two"
    elif variant == "bad_price":
        broken["lines"][0]["unit_price"] = "N/A"
        broken["totals"]["grand_total"] = None
    elif variant == "bad_date":
        broken["created_at"] = "yesterday afternoon"
    else:  # garbage
        broken = {
            "id": wire["id"],
            "number": None,
            "status": 42,
            "lines": "<html>oops</html>",
            "customer": ["?"],
        }
    broken["_malformed"] = variant  # for people reading the sandbox; sellers must not rely on it
    return broken


# ====================================================================== reading
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


def _order_wire(
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


def _wires(
    store: MarketStore, conn: sqlite3.Connection, seqs: Sequence[int], *, raw: bool = False
) -> dict[int, Any]:
    """seq -> wire order (the broken payload for malformed orders unless ``raw``)."""
    out: dict[int, Any] = {}
    for part in _chunks(seqs):
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
                out[row[0]] = _order_wire(store, row, lines.get(row[0], []))
    return out


def _ack_clause(acknowledged: bool | None) -> str:
    if acknowledged is None:
        return "1=1"
    return "acknowledged_at IS NOT NULL" if acknowledged else "acknowledged_at IS NULL"


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
    where = [_ack_clause(acknowledged), "seq > ?"]
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
        wires = _wires(store, store.conn, seqs)
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
        return _wires(store, store.conn, [seq], raw=raw).get(seq)


# ====================================================================== acknowledgements
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
                status="rejected", reasons=[_reason("invalid_id", key, f"{key} is not valid")]
            )
        else:
            wanted.setdefault(seq, []).append(index)
    now = store.clock()
    with store.tx() as conn:
        found: set[int] = set()
        for part in _chunks(list(wanted)):
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
                    reasons=[_reason(f"unknown_{key[:-3]}", key, f"no such {key[:-3]}")],
                )
    return _results_body(results)


def _results_body(results: list[dict[str, Any]]) -> dict[str, Any]:
    accepted = sum(1 for r in results if r["status"] == "accepted")
    return {"accepted_count": accepted, "rejected_count": len(results) - accepted, "items": results}


# ====================================================================== line bookkeeping
def _refresh_order_status(conn: sqlite3.Connection, seq: int, now: float) -> None:
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


def _lines_of(conn: sqlite3.Connection, order_seq: int) -> dict[int, Line]:
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


def _order_row(conn: sqlite3.Connection, oid: Any) -> tuple[int, str, str | None, bool] | None:
    """(seq, number, tracking_number, malformed) of an order id, or None."""
    seq = parse_id(oid, "MO")
    if seq is None:
        return None
    row = conn.execute(
        "SELECT seq, number, tracking_number, malformed IS NOT NULL FROM orders WHERE seq = ?",
        (seq,),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), row[2], bool(row[3]))


def _set_cancelled(line: Line, total: int) -> None:
    line.cancelled = total
    if line.remaining <= 0:
        line.status = CANCELLED if line.returned == 0 else RETURNED


def _save_lines(conn: sqlite3.Connection, lines: Iterable[Line], now: float) -> None:
    conn.executemany(
        "UPDATE order_lines SET status = ?, cancelled_quantity = ?, returned_quantity = ?, "
        "updated_at = ? WHERE seq = ?",
        [(ln.status, ln.cancelled, ln.returned, now, ln.seq) for ln in lines],
    )


# ====================================================================== seller updates
def _text(item: dict[str, Any], name: str, reasons: list[dict[str, Any]], limit: int) -> Any:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        reasons.append(
            _reason("invalid_value", name, f"{name} must be a non-empty string <= {limit}")
        )
        return None
    return value.strip()


def _apply_status(
    line: Line, target: str, tracking: str | None, notes: list[str], reasons: list[Any], where: str
) -> None:
    """Move one line to ``target`` by the forward-only rules (see the module docstring)."""
    name = line_id(line.seq)
    if target == CANCELLED:
        if line.status in (CANCELLED, RETURNED):
            return
        if line.status not in CANCELLABLE:
            reasons.append(
                _reason(
                    "invalid_transition",
                    where,
                    f"line {name} is {line.status}; shipped lines are returned, not cancelled",
                )
            )
            return
        _set_cancelled(line, line.quantity - line.returned)
        return
    if line.status in (CANCELLED, RETURNED):
        reasons.append(
            _reason("invalid_transition", where, f"line {name} is {line.status} (terminal)")
        )
        return
    if RANK[target] <= RANK[line.status]:
        if RANK[target] < RANK[line.status]:
            notes.append(f"line {name} is already {line.status}; {target} ignored")
        return
    if target in (SHIPPED, DELIVERED) and not (tracking or line.tracking):
        reasons.append(
            _reason("missing_field", "tracking_number", f"{target} needs a tracking number")
        )
        return
    line.status = target


def update_statuses(store: MarketStore, items: list[Any]) -> dict[str, Any]:
    """``PUT /orders/status``: absolute per-order updates, each applied whole or not at all."""
    results: list[dict[str, Any]] = []
    now = store.clock()
    with store.tx() as conn:
        for index, item in enumerate(items):
            results.append(_update_one(conn, index, item, now))
    return _results_body(results)


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
        reasons.append(_reason("invalid_item", None, "each item must be an object"))
        return result
    result["order_id"] = item.get("order_id")
    found = _order_row(conn, item.get("order_id"))
    if found is None:
        reasons.append(_reason("unknown_order", "order_id", "no such order"))
        return result
    seq, number, order_tracking, malformed = found
    result["number"] = number
    if malformed:
        reasons.append(_reason("order_not_editable", "order_id", "this order cannot be updated"))
        return result
    tracking = _text(item, "tracking_number", reasons, 64)
    invoice = _text(item, "invoice_number", reasons, 64)
    invoice_date = _text(item, "invoice_date", reasons, 40)
    cargo = _text(item, "cargo_code", reasons, 32)
    if cargo is not None and cargo not in CARGO_CODES:
        reasons.append(_reason("unknown_cargo", "cargo_code", f"unknown cargo code {cargo!r}"))
    status = item.get("status")
    if status is not None and status not in SELLER_STATUSES:
        reasons.append(
            _reason("invalid_value", "status", f"status must be one of {list(SELLER_STATUSES)}")
        )
    try:
        lines = _lines_of(conn, seq)
    except ApiError as exc:  # one unreadable order is one rejected item
        reasons.append(_reason("order_not_editable", "order_id", str(exc.body["error"]["message"])))
        return result
    tracking = tracking or order_tracking
    line_items = item.get("lines") or []
    if not isinstance(line_items, list):
        reasons.append(_reason("invalid_value", "lines", "lines must be a list"))
        line_items = []
    if reasons:
        return result
    if status is not None:
        for each in lines.values():
            if each.status in (CANCELLED, RETURNED) and status != CANCELLED:
                continue  # an order-wide status skips finished lines
            _apply_status(each, status, tracking, notes, reasons, "status")
    seen: set[int] = set()
    for n, entry in enumerate(line_items):
        where = f"lines[{n}]"
        if not isinstance(entry, dict):
            reasons.append(_reason("invalid_item", where, "each line must be an object"))
            continue
        lseq = parse_id(entry.get("line_id"), "ML")
        line = lines.get(lseq) if lseq is not None else None
        if line is None:
            reasons.append(_reason("unknown_line", f"{where}.line_id", "no such line here"))
            continue
        if line.seq in seen:
            reasons.append(_reason("duplicate_line", f"{where}.line_id", "line appears twice"))
            continue
        seen.add(line.seq)
        cancelled = entry.get("cancelled_quantity")
        if cancelled is not None:
            if isinstance(cancelled, bool) or not isinstance(cancelled, int) or cancelled < 0:
                reasons.append(_reason("invalid_value", f"{where}.cancelled_quantity", ">= 0"))
            elif cancelled > line.quantity - line.returned:
                reasons.append(
                    _reason(
                        "invalid_quantity",
                        f"{where}.cancelled_quantity",
                        f"line {line_id(line.seq)} has {line.quantity - line.returned} units",
                    )
                )
            elif cancelled > line.cancelled:
                if line.status not in CANCELLABLE:
                    reasons.append(
                        _reason(
                            "invalid_transition",
                            f"{where}.cancelled_quantity",
                            f"line {line_id(line.seq)} is {line.status}",
                        )
                    )
                else:
                    _set_cancelled(line, cancelled)
            elif cancelled < line.cancelled:
                notes.append(f"line {line_id(line.seq)} has {line.cancelled} cancelled units; kept")
        line_status = entry.get("status")
        if line_status is not None:
            if line_status not in SELLER_STATUSES:
                reasons.append(_reason("invalid_value", f"{where}.status", "unknown status"))
            else:
                _apply_status(line, line_status, tracking, notes, reasons, f"{where}.status")
    if reasons:
        result["notes"] = []
        return result
    _save_lines(conn, lines.values(), now)
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
    _refresh_order_status(conn, seq, now)
    result["status"] = "accepted"
    return result


# ====================================================================== events
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
    where = [_ack_clause(acknowledged).replace("acknowledged_at", "e.acknowledged_at"), "e.seq > ?"]
    args: list[Any] = [after]
    if kind:
        where.append("e.type = ?")
        args.append(kind)
    with store.lock:
        rows = store.conn.execute(
            "SELECT e.seq, e.type, e.order_seq, o.number, e.data, e.created_at, "
            "e.acknowledged_at FROM order_events e JOIN orders o ON o.seq = e.order_seq "
            f"WHERE {' AND '.join(where)} ORDER BY e.seq LIMIT ?",
            [*args, limit + 1],
        ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [_event_wire(store, row) for row in rows],
        "limit": limit,
        "next_cursor": str(rows[-1][0]) if more else None,
    }


def _order_for_action(conn: sqlite3.Connection, oid: str) -> int:
    found = _order_row(conn, oid)
    if found is None:
        raise api_error(404, "not_found", "No such order.")
    if found[3]:
        raise api_error(409, "order_not_editable", "This order is malformed; it has no lines.")
    return found[0]


def _pick_line(lines: dict[int, Line], value: Any, where: str) -> Line:
    seq = parse_id(value, "ML")
    if seq is None or seq not in lines:
        raise api_error(404, "unknown_line", f"{where}: no such line in this order.")
    return lines[seq]


def _reason_code(value: Any, default: str) -> str:
    code = default if value is None else value
    if code not in REASON_CODES:
        raise api_error(400, "unknown_reason", f"reason_code must be one of {list(REASON_CODES)}.")
    return str(code)


def cancel_lines(store: MarketStore, oid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The marketplace cancels units (``lines: [{line_id, quantity?, reason_code?}]``; no
    ``lines``: every remaining unit). One ``cancellation`` event is recorded."""
    now = store.clock()
    default_reason = _reason_code(body.get("reason_code"), "out_of_stock")
    with store.tx() as conn:
        seq = _order_for_action(conn, oid)
        lines = _lines_of(conn, seq)
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
            line = _pick_line(lines, entry.get("line_id"), f"lines[{n}]")
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
            _set_cancelled(line, line.cancelled + quantity)
            touched[line.seq] = line
            data_lines.append(
                {
                    "line_id": line_id(line.seq),
                    "quantity": quantity,
                    "cancelled_quantity": line.cancelled,
                    "line_quantity": line.quantity,
                    "reason_code": _reason_code(entry.get("reason_code"), default_reason),
                }
            )
        _save_lines(conn, touched.values(), now)
        _refresh_order_status(conn, seq, now)
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
        seq = _order_for_action(conn, oid)
        lines = _lines_of(conn, seq)
        if body.get("line_id") is not None:
            targets = [_pick_line(lines, body["line_id"], "line_id")]
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
        _refresh_order_status(conn, seq, now)
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
    with store.lock:
        row = store.conn.execute(
            "SELECT e.seq, e.type, e.order_seq, o.number, e.data, e.created_at, "
            "e.acknowledged_at FROM order_events e JOIN orders o ON o.seq = e.order_seq "
            "WHERE e.seq = ?",
            (eseq,),
        ).fetchone()
    return _event_wire(store, row)


# ====================================================================== claims
CLAIM_COLUMNS = (
    "c.seq, c.order_seq, o.number, c.line_seq, c.type, c.quantity, c.reason_code, "
    "c.description, c.status, c.decision_note, c.created_at, c.decided_at, c.acknowledged_at"
)


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


def get_claim(store: MarketStore, cid: Any) -> dict[str, Any] | None:
    seq = parse_id(cid, "CL")
    if seq is None:
        return None
    with store.lock:
        row = store.conn.execute(
            f"SELECT {CLAIM_COLUMNS} FROM claims c JOIN orders o ON o.seq = c.order_seq "
            "WHERE c.seq = ?",
            (seq,),
        ).fetchone()
    return None if row is None else _claim_wire(store, row)


def list_claims(
    store: MarketStore, *, acknowledged: bool | None, status: str | None, after: int, limit: int
) -> dict[str, Any]:
    where = [_ack_clause(acknowledged).replace("acknowledged_at", "c.acknowledged_at"), "c.seq > ?"]
    args: list[Any] = [after]
    if status:
        where.append("c.status = ?")
        args.append(status)
    with store.lock:
        rows = store.conn.execute(
            f"SELECT {CLAIM_COLUMNS} FROM claims c JOIN orders o ON o.seq = c.order_seq "
            f"WHERE {' AND '.join(where)} ORDER BY c.seq LIMIT ?",
            [*args, limit + 1],
        ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [_claim_wire(store, row) for row in rows],
        "limit": limit,
        "next_cursor": str(rows[-1][0]) if more else None,
    }


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
    code = _reason_code(
        body.get("reason_code"), "changed_mind" if kind == "cancel" else "damaged_item"
    )
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        raise api_error(400, "invalid_request", "description is a string of <= 500 chars.")
    with store.tx() as conn:
        seq = _order_for_action(conn, oid)
        lines = _lines_of(conn, seq)
        line = _pick_line(lines, body.get("line_id"), "line_id")
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
                line = _lines_of(conn, order_seq)[line_seq]
                units = min(quantity, line.remaining)
                if kind == "cancel":
                    _set_cancelled(line, line.cancelled + units)
                else:
                    line.returned += units
                    if line.remaining <= 0:
                        line.status = RETURNED
                _save_lines(conn, [line], now)
                _refresh_order_status(conn, order_seq, now)
    found = get_claim(store, cid)
    assert found is not None
    return found


# ====================================================================== inspection
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
