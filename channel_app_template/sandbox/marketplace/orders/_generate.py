"""Sandbox orders made from live products (``/_sandbox/orders/generate``), good and bad.

Kept apart from the order API: only the sandbox controls and the planting of bad orders make
orders. The names, addresses and cargos below follow what the Omnitron simulator seeds, so good
orders resolve there and the bad kinds fail there on purpose.
"""

# SQL here is built only from constants in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random
from typing import TYPE_CHECKING, Any

from ..errors import api_error
from ._reading import order_wires
from ._wire import money, order_id

if TYPE_CHECKING:
    from ..store import MarketStore

# Cargos the Omnitron simulator seeds as erp_codes, and one it does not (see ``CARGO_CODES``).
GOOD_CARGOS = ("yurtici", "aras", "mng")
UNKNOWN_CARGO = "surat"
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
            wires = order_wires(store, conn, [s for s, _ in broken])
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
