"""The marketplace's reference data: a fixed category tree and its attributes.

Names line up with the Omnitron simulator's seed (categories ``Women/Men/Home`` > ``Shirts/
Shoes/Accessories``; attributes ``color`` and ``size`` with the same value codes), so a seeded
Omnitron catalog maps onto this marketplace by name with no manual work. ``brand`` and
``barcode`` are product fields here, not attributes (as on most marketplaces). Ids are fixed,
so every run, machine and reset sees the same ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# (id, name, leaves as (id, name)); leaves are the only categories a product may use.
CATEGORY_TREE: tuple[tuple[int, str, tuple[tuple[int, str], ...]], ...] = (
    (1000, "Women", ((1001, "Shirts"), (1002, "Shoes"), (1003, "Accessories"))),
    (2000, "Men", ((2001, "Shirts"), (2002, "Shoes"), (2003, "Accessories"))),
    (3000, "Home", ((3001, "Shirts"), (3002, "Shoes"), (3003, "Accessories"))),
)


@dataclass(frozen=True)
class AttributeDef:
    id: int
    code: str
    name: str
    kind: str  # "enum": one of ``values``; "text": free text up to ``max_length``
    values: tuple[tuple[int, str, str], ...] = ()  # (id, code, name)
    max_length: int = 100


ATTRIBUTES = (
    AttributeDef(
        1,
        "color",
        "Color",
        "enum",
        tuple(
            (100 + i, code, code.title())
            for i, code in enumerate(("red", "blue", "green", "black", "white"), 1)
        ),
    ),
    AttributeDef(
        2,
        "size",
        "Size",
        "enum",
        tuple((200 + i, code, code) for i, code in enumerate(("S", "M", "L", "XL"), 1)),
    ),
    AttributeDef(3, "material", "Material", "text", max_length=100),
)

# leaf name -> attribute code -> (required, variant)
LEAF_ATTRIBUTES: dict[str, dict[str, tuple[bool, bool]]] = {
    "Shirts": {"color": (True, True), "size": (True, True), "material": (False, False)},
    "Shoes": {"color": (True, True), "size": (True, True), "material": (False, False)},
    "Accessories": {"color": (True, True), "size": (False, True), "material": (False, False)},
}


def seed_reference_data(conn: sqlite3.Connection) -> None:
    """Write categories and attributes (idempotent: ``INSERT OR IGNORE`` on fixed ids)."""
    categories: list[tuple[int, str, int | None, str, int]] = []
    links: list[tuple[int, int, int, int]] = []
    attribute_ids = {a.code: a.id for a in ATTRIBUTES}
    for top_id, top_name, leaves in CATEGORY_TREE:
        categories.append((top_id, top_name, None, top_name, 0))
        for leaf_id, leaf_name in leaves:
            categories.append((leaf_id, leaf_name, top_id, f"{top_name} > {leaf_name}", 1))
            for code, (required, variant) in LEAF_ATTRIBUTES[leaf_name].items():
                links.append((leaf_id, attribute_ids[code], int(required), int(variant)))
    conn.executemany(
        "INSERT OR IGNORE INTO categories (id, name, parent_id, path, is_leaf) "
        "VALUES (?, ?, ?, ?, ?)",
        categories,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO attributes (id, code, name, kind, max_length) "
        "VALUES (?, ?, ?, ?, ?)",
        [(a.id, a.code, a.name, a.kind, a.max_length) for a in ATTRIBUTES],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO attribute_values (id, attribute_id, code, name) VALUES (?, ?, ?, ?)",
        [(vid, a.id, code, name) for a in ATTRIBUTES for vid, code, name in a.values],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO category_attributes (category_id, attribute_id, required, variant) "
        "VALUES (?, ?, ?, ?)",
        links,
    )
