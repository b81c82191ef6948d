"""A deterministic sandbox catalog: the same N gives byte-identical data on every machine.

Rows are written with ``executemany`` in one transaction and a fixed timestamp, so 100,000
products (plus two prices, two stocks, an image and a category link each) seed in seconds.
Seeding is skipped when products already exist, so restarting with ``--seed-products`` keeps
the state a previous run built.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from random import Random
from typing import Any

from .resources import SPECS
from .store import DEFAULT_CHANNEL_ID, Store, columns

SEED_TIME = "2024-01-01T00:00:00.000000Z"  # every seeded row's created/modified date # [INF]
COLORS = ("red", "blue", "green", "black", "white")
SIZES = ("S", "M", "L", "XL")
BRANDS = ("Acme", "Globex", "Initech", "Umbrella")
TOP_CATEGORIES = ("Women", "Men", "Home")
LEAF_CATEGORIES = ("Shirts", "Shoes", "Accessories")
CARGOS = (
    ("Yurtici Kargo", "yurtici", "yurtici"),
    ("Aras Kargo", "aras", "aras"),
    ("MNG Kargo", "mng", "mng"),
)
# country code -> cities -> townships -> districts
LOCATIONS = {
    "TR": (
        "Türkiye",
        {
            "Istanbul": {"Kadikoy": ("Moda", "Fenerbahce"), "Besiktas": ("Levent", "Etiler")},
            "Ankara": {"Cankaya": ("Kizilay", "Bahcelievler")},
            "Izmir": {"Konak": ("Alsancak", "Basmane")},
        },
    ),
}
CANCEL_REASONS = (
    ("cancel", "Customer changed their mind"),
    ("cancel", "Out of stock"),
    ("cancel", "Payment problem"),
    ("refund", "Damaged item"),
    ("refund", "Wrong item sent"),
    ("refund", "Not as described"),
    ("cancel", "Late delivery"),
    ("refund", "Size problem"),
    ("cancel", "Duplicate order"),
    ("cancel", "Other"),  # pk 10: the app's default reason
)


def bulk_insert(store: Store, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """``executemany`` with values encoded as the store encodes them (JSON text, 0/1 bools)."""
    spec = SPECS[table]
    names = columns(spec)
    json_cols = {f.name for f in spec.fields if f.kind == "json"}
    bool_cols = {f.name for f in spec.fields if f.kind == "bool"}
    defaults = {f.name: f.default for f in spec.fields}
    defaults.update(created_date=SEED_TIME, modified_date=SEED_TIME, id=None)

    def encode(row: dict[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for name in names:
            value = row.get(name, defaults.get(name))
            if value is not None and name in json_cols:
                value = json.dumps(value, separators=(",", ":"))
            elif value is not None and name in bool_cols:
                value = 1 if value else 0
            out.append(value)
        return tuple(out)

    quoted = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" * len(names))
    store.conn.executemany(
        f"INSERT INTO {table} ({quoted}) VALUES ({marks})",  # noqa: S608
        (encode(row) for row in rows),
    )


def seed_catalog(store: Store, products: int, seed: int = 0) -> int:
    """Create the reference data (once) and ``products`` products (if there are none yet)."""
    rng = Random(seed)
    with store.lock, store.tx():
        if store.count("cargos") == 0:
            _reference_data(store)
        if products <= 0 or store.count("products") > 0:
            return 0
        leaves = [row["id"] for row in store.select("category_nodes", "t.depth = 3")]
        _products(store, products, leaves, rng)
    return products


def _reference_data(store: Store) -> None:
    bulk_insert(
        store,
        "cargos",
        (
            {"id": i, "name": n, "erp_code": e, "shipping_company": s}
            for i, (n, e, s) in enumerate(CARGOS, 1)
        ),
    )
    bulk_insert(
        store,
        "cancellation_reasons",
        (
            {
                "id": i,
                "channel": DEFAULT_CHANNEL_ID,
                "cancellation_type": kind,
                "subject": subject,
                "order": i,
                "uuid": str(uuid.UUID(int=i, version=4)),
                "translations": {"en": {"subject": subject}},
            }
            for i, (kind, subject) in enumerate(CANCEL_REASONS, 1)
        ),
    )
    bulk_insert(store, "retail_stores", [{"id": 1, "name": "Sandbox store", "erp_code": "STORE1"}])
    _locations(store)
    _category_tree(store)
    _attributes(store)


def _locations(store: Store) -> None:
    ids = {"country": 0, "city": 0, "township": 0, "district": 0}
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ids}
    mappings: list[dict[str, Any]] = []

    def add(kind: str, row: dict[str, Any]) -> int:
        ids[kind] += 1
        row["id"] = ids[kind]
        rows[kind].append(row)
        mappings.append(
            {
                "kind": kind,
                "location_id": ids[kind],
                "integration_type": "sales_channel",
                "code": f"{DEFAULT_CHANNEL_ID}_{row['code']}",
            }
        )
        return ids[kind]

    for code, (country_name, cities) in LOCATIONS.items():
        country = add("country", {"name": country_name, "code": code})
        for city_name, townships in cities.items():
            city = add(
                "city", {"name": city_name, "code": city_name[:3].upper(), "country": country}
            )
            for township_name, districts in townships.items():
                township = add(
                    "township",
                    {
                        "name": township_name,
                        "country": country,
                        "city": city,
                        "code": township_name.upper(),
                    },
                )
                for district_name in districts:
                    add(
                        "district",
                        {
                            "name": district_name,
                            "country": country,
                            "city": city,
                            "township": township,
                            "code": district_name.upper(),
                        },
                    )
    for kind, table in (
        ("country", "countries"),
        ("city", "cities"),
        ("township", "townships"),
        ("district", "districts"),
    ):
        bulk_insert(store, table, rows[kind])
    bulk_insert(store, "location_mappings", mappings)


def _category_tree(store: Store) -> None:
    """Tree 1 (the channel's ``category_tree``): Root > 3 top categories > 3 leaves each."""
    nodes: list[dict[str, Any]] = [
        {
            "id": 1,
            "channel": DEFAULT_CHANNEL_ID,
            "name": "Root",
            "path": "0001",
            "depth": 1,
            "numchild": len(TOP_CATEGORIES),
            "tree": 1,
            "uuid": str(uuid.UUID(int=1000, version=4)),
        }
    ]
    for t_index, top in enumerate(TOP_CATEGORIES, 1):
        top_id = len(nodes) + 1
        nodes.append(
            {
                "id": top_id,
                "channel": DEFAULT_CHANNEL_ID,
                "name": top,
                "parent": 1,
                "path": f"0001{t_index:04d}",
                "depth": 2,
                "tree": 1,
                "numchild": len(LEAF_CATEGORIES),
                "uuid": str(uuid.UUID(int=1000 + top_id, version=4)),
            }
        )
        for l_index, leaf in enumerate(LEAF_CATEGORIES, 1):
            leaf_id = len(nodes) + 1
            nodes.append(
                {
                    "id": leaf_id,
                    "channel": DEFAULT_CHANNEL_ID,
                    "name": leaf,
                    "parent": top_id,
                    "path": f"0001{t_index:04d}{l_index:04d}",
                    "depth": 3,
                    "numchild": 0,
                    "tree": 1,
                    "uuid": str(uuid.UUID(int=1000 + leaf_id, version=4)),
                }
            )
    bulk_insert(store, "category_nodes", nodes)
    bulk_insert(
        store,
        "category_trees",
        [{"id": 1, "channel": DEFAULT_CHANNEL_ID, "name": "Sandbox tree", "category_root": 1}],
    )
    store.conn.execute("UPDATE channels SET category_tree = 1 WHERE id = ?", (DEFAULT_CHANNEL_ID,))


def _attributes(store: Store) -> None:
    """Attribute set 1 on every leaf; color (required, variant), size (variant), brand."""
    cid = DEFAULT_CHANNEL_ID
    bulk_insert(
        store,
        "attribute_sets",
        [{"id": 1, "channel": cid, "name": "Default", "remote_id": "set-1"}],
    )
    leaves = [row["id"] for row in store.select("category_nodes", "t.depth = 3")]
    bulk_insert(
        store,
        "attribute_set_configs",
        (
            {"channel": cid, "attribute_set": 1, "object_id": leaf, "content_type": "categorynode"}
            for leaf in leaves
        ),
    )
    specs: Sequence[tuple[str, Sequence[str], bool, bool]] = (
        ("color", COLORS, True, True),
        ("size", SIZES, False, True),
        ("brand", BRANDS, False, False),
    )
    values: list[dict[str, Any]] = []
    for attr_id, (name, choices, required, variant) in enumerate(specs, 1):
        bulk_insert(
            store,
            "attributes",
            [{"id": attr_id, "channel": cid, "name": name, "remote_id": f"attr-{name}"}],
        )
        bulk_insert(
            store,
            "attribute_configs",
            [
                {
                    "channel": cid,
                    "attribute_set": 1,
                    "attribute": attr_id,
                    "attribute_remote_id": f"attr-{name}",
                    "is_required": required,
                    "is_variant": variant,
                }
            ],
        )
        values += [
            {
                "channel": cid,
                "attribute": attr_id,
                "label": choice.title(),
                "value": choice,
                "remote_id": f"{name}-{choice}",
            }
            for choice in choices
        ]
    bulk_insert(store, "attribute_values", values)


def _products(store: Store, count: int, leaves: list[int], rng: Random) -> None:
    start = int(store.conn.execute("SELECT COALESCE(MAX(id), 0) FROM products").fetchone()[0])
    ids = range(start + 1, start + count + 1)

    def product(i: int) -> dict[str, Any]:
        color = COLORS[i % len(COLORS)]
        size = SIZES[i % len(SIZES)]
        return {
            "id": i,
            "name": f"Sandbox product {i}",
            "sku": f"SKU-{i:07d}",
            "base_code": f"BASE-{(i + 1) // 2:07d}",
            "product_type": 0,
            "is_active": True,
            "attributes": {
                "color": color,
                "size": size,
                "brand": BRANDS[i % len(BRANDS)],
                "barcode": f"869{i:010d}",
            },
            "attributes_kwargs": {"color": {"label": color.title(), "value": color}},
            "tax_rate": "18.00",
            "description": f"Deterministic sandbox product number {i}.",
            "attribute_set": 1,
            "listing_code": f"LC-{(i + 1) // 2:07d}",
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "weight": f"{(i % 50) / 10 + 0.1:.2f}",
        }

    bulk_insert(store, "products", (product(i) for i in ids))
    if leaves:
        bulk_insert(
            store,
            "product_categories",
            ({"product": i, "category": leaves[i % len(leaves)]} for i in ids),
        )
    bulk_insert(
        store,
        "product_prices",
        (
            {
                "product": i,
                "price_list": price_list,
                "price": f"{(i % 997) + 10 * factor}.90",
                "retail_price": f"{(i % 997) + 10 * factor + 20}.90",
                "currency_type": currency,
                "tax_rate": "18.00",
            }
            for i in ids
            for price_list, factor, currency in ((1, 1, "try"), (2, 0, "usd"))
        ),
    )
    bulk_insert(
        store,
        "product_stocks",
        (
            {"product": i, "stock_list": stock_list, "stock": (i * 7 + stock_list) % 50}
            for i in ids
            for stock_list in (1, 2)
        ),
    )
    bulk_insert(
        store,
        "product_images",
        (
            {
                "product": i,
                "image": f"/media/products/{i}/{n}.jpg",
                "order": n,
                "width": 800,
                "height": 1200,
                "source": "unified",
                "hash": f"{i:08x}{n:04x}",
            }
            for i in ids
            for n in range(1 + (i % 10 == 0))
        ),
    )
