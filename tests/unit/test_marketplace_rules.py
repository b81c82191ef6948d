"""Pure validation rules, seed alignment with the Omnitron simulator, the token bucket."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from channel_app_template.sandbox.marketplace import catalog, seed
from channel_app_template.sandbox.marketplace.catalog import Catalog, validate_product
from channel_app_template.sandbox.marketplace.ratelimit import RateLimiter
from channel_app_template.sandbox.marketplace.store import MarketStore
from channel_app_template.sandbox.omnitron import seed as omnitron_seed
from tests.support.marketplace import product_payload


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return MarketStore(":memory:").catalog


def codes(cat: Catalog, item: Any) -> list[str]:
    clean, reasons = validate_product(cat, item)
    assert (clean is None) == bool(reasons)
    return [r["code"] for r in reasons]


def test_valid_item_is_normalised(cat: Catalog) -> None:
    clean, reasons = validate_product(
        cat, product_payload(1, price={"list_price": 10, "currency": "usd"})
    )
    assert reasons == []
    assert clean is not None
    assert clean["price"] == {"list_price": "10.00", "sale_price": "10.00", "currency": "USD"}
    assert clean["attributes"] == {"color": "red", "size": "M"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"sku": None}, ["missing_field"]),
        ({"sku": "has space"}, ["invalid_sku"]),
        ({"sku": "x" * 65}, ["invalid_sku"]),
        ({"sku": 5}, ["invalid_type"]),
        ({"title": ""}, ["missing_field"]),
        ({"title": "t" * 101}, ["title_too_long"]),
        ({"title": 3}, ["invalid_type"]),
        ({"description": "d" * 5001}, ["description_too_long"]),
        ({"brand": None}, ["missing_field"]),
        ({"brand": "b" * 51}, ["brand_too_long"]),
        ({"category_id": None}, ["missing_field"]),
        ({"category_id": "1001"}, ["invalid_type"]),
        ({"category_id": 999}, ["unknown_category"]),
        ({"category_id": 1000}, ["category_not_leaf"]),
        ({"barcode": None}, ["missing_field"]),
        ({"barcode": "12345"}, ["invalid_barcode"]),
        ({"barcode": "86900000000A1"}, ["invalid_barcode"]),
        ({"barcode": 8690000000001}, ["invalid_barcode"]),
        ({"attributes": {"size": "M"}}, ["missing_required_attribute"]),
        ({"attributes": {"color": "pink", "size": "M"}}, ["attribute_value_not_allowed"]),
        ({"attributes": {"color": "red", "size": "M", "fit": "slim"}}, ["unknown_attribute"]),
        (
            {"attributes": {"color": "red", "size": "M", "material": "m" * 101}},
            ["attribute_value_too_long"],
        ),
        ({"attributes": {"color": 1, "size": "M"}}, ["invalid_type"]),
        ({"attributes": ["red"]}, ["invalid_type"]),
        ({"images": ["https://cdn.example.com/a.jpg"] * 9}, ["too_many_images"]),
        ({"images": ["/media/1.jpg", "ftp://x/y.jpg"]}, ["invalid_image_url"] * 2),
        ({"images": "https://cdn.example.com/a.jpg"}, ["invalid_type"]),
        ({"price": {"list_price": "0", "currency": "TRY"}}, ["non_positive_price"]),
        ({"price": {"list_price": "-5", "currency": "TRY"}}, ["non_positive_price"]),
        ({"price": {"list_price": "1.234", "currency": "TRY"}}, ["invalid_price"]),
        ({"price": {"list_price": "abc", "currency": "TRY"}}, ["invalid_price"]),
        ({"price": {"list_price": True, "currency": "TRY"}}, ["invalid_price"]),
        ({"price": {"list_price": "1e30", "currency": "TRY"}}, ["invalid_price"]),
        ({"price": {"list_price": float("inf"), "currency": "TRY"}}, ["invalid_price"]),
        ({"price": {"list_price": "NaN", "currency": "TRY"}}, ["invalid_price"]),
        (
            {"price": {"list_price": "10", "sale_price": "11", "currency": "TRY"}},
            ["sale_price_above_list_price"],
        ),
        ({"price": {"list_price": "10", "currency": "GBP"}}, ["unsupported_currency"]),
        ({"price": {"list_price": "10"}}, ["missing_field"]),
        ({"price": {"currency": "TRY"}}, ["missing_field"]),
        ({"price": "10"}, ["invalid_type"]),
        ({"stock": -1}, ["negative_stock"]),
        ({"stock": 1.5}, ["invalid_quantity"]),
        ({"stock": 10**7}, ["invalid_quantity"]),
    ],
)
def test_each_rule(cat: Catalog, overrides: dict[str, Any], expected: list[str]) -> None:
    assert codes(cat, product_payload(1, **overrides)) == expected


def test_all_reasons_are_collected_with_fields(cat: Catalog) -> None:
    _, reasons = validate_product(
        cat, product_payload(1, title="t" * 101, barcode="1", attributes={"size": "XXL"})
    )
    assert [(r["code"], r["field"]) for r in reasons] == [
        ("title_too_long", "title"),
        ("invalid_barcode", "barcode"),
        ("missing_required_attribute", "attributes.color"),
        ("attribute_value_not_allowed", "attributes.size"),
    ]


def test_non_object_item(cat: Catalog) -> None:
    assert codes(cat, ["not", "an", "object"]) == ["invalid_item"]


def test_size_is_optional_for_accessories(cat: Catalog) -> None:
    assert codes(cat, product_payload(1, category_id=1003, attributes={"color": "red"})) == []


def test_every_rule_code_is_documented() -> None:
    doc = catalog.__doc__ or ""
    for code in ("title_too_long", "unknown_sku", "duplicate_barcode", "negative_stock"):
        assert f"``{code}``" in doc


def test_seed_lines_up_with_the_omnitron_simulator() -> None:
    """The reference integration maps categories and attributes by name, without help."""
    tops = tuple(name for _, name, _ in seed.CATEGORY_TREE)
    assert tops == omnitron_seed.TOP_CATEGORIES
    for _, _, leaves in seed.CATEGORY_TREE:
        assert tuple(name for _, name in leaves) == omnitron_seed.LEAF_CATEGORIES
    by_code = {a.code: a for a in seed.ATTRIBUTES}
    assert tuple(code for _, code, _ in by_code["color"].values) == omnitron_seed.COLORS
    assert tuple(code for _, code, _ in by_code["size"].values) == omnitron_seed.SIZES


def test_seeded_omnitron_products_pass_validation(cat: Catalog) -> None:
    """Omnitron's seeded attributes (color, size, brand, barcode) make valid items."""
    for i in range(1, 41):
        color = omnitron_seed.COLORS[i % len(omnitron_seed.COLORS)]
        size = omnitron_seed.SIZES[i % len(omnitron_seed.SIZES)]
        item = {
            "sku": f"SKU-{i:07d}",
            "title": f"Sandbox product {i}",
            "brand": omnitron_seed.BRANDS[i % len(omnitron_seed.BRANDS)],
            "barcode": f"869{i:010d}",
            "category_id": (1001, 2002, 3003)[i % 3],
            "attributes": {"color": color, "size": size},
        }
        assert codes(cat, item) == []


def test_reference_data_seeding_is_idempotent() -> None:
    conn = sqlite3.connect(":memory:")
    store = MarketStore(":memory:")
    for statement in catalog.DDL:
        conn.execute(statement)
    seed.seed_reference_data(conn)
    seed.seed_reference_data(conn)
    assert conn.execute("SELECT COUNT(*) FROM categories").fetchone()[0] == 12
    assert store.counts()["categories"] == 12


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("k")[0] for _ in range(4)] == [True, True, True, False]
    allowed, wait, _ = limiter.take("k")
    assert not allowed and wait == pytest.approx(0.5)
    assert limiter.retry_after(wait) == 1
    assert limiter.take("other")[0]  # buckets are per key
    clock.now += 0.5
    assert limiter.take("k")[0]
    assert not limiter.take("k")[0]
    clock.now += 100
    assert [limiter.take("k")[0] for _ in range(4)] == [True, True, True, False]


def test_token_bucket_off_and_reconfigured() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0, burst=1, clock=clock)
    assert all(limiter.take("k")[0] for _ in range(100))
    limiter.configure(rate=1, burst=1)
    assert limiter.take("k")[0] and not limiter.take("k")[0]
    limiter.configure(burst=2)
    assert limiter.take("k")[0] and limiter.take("k")[0]
