"""Unit tests for the simulator's pure logic: filters, pagination, dates, faults, seeding."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from channel_app_template.sandbox.omnitron.errors import ApiError
from channel_app_template.sandbox.omnitron.faults import FaultConfig, parse_rule_flag
from channel_app_template.sandbox.omnitron.filters import build_order, build_where
from channel_app_template.sandbox.omnitron.pagination import Page, envelope, parse_page
from channel_app_template.sandbox.omnitron.resources import SPECS
from channel_app_template.sandbox.omnitron.seed import seed_catalog
from channel_app_template.sandbox.omnitron.store import Store
from channel_app_template.sandbox.omnitron.sync import TRANSITIONS
from channel_app_template.sandbox.omnitron.timeutil import Clock, parse_datetime, parse_decimal

PRODUCTS = SPECS["products"]


def test_in_lookup_splits_commas_and_types_values() -> None:
    where = build_where(PRODUCTS, [("pk__in", "1,2,3")])
    assert where.clauses == ["((t.id IN (?,?,?)))"] and where.args == [1, 2, 3]


def test_repeated_params_are_or_and_names_are_and() -> None:
    where = build_where(PRODUCTS, [("sku", "a"), ("sku", "b"), ("is_active", "true")])
    assert where.sql() == '((t."sku" = ?) OR (t."sku" = ?)) AND ((t."is_active" = ?))'
    assert where.args == ["a", "b", 1]


def test_related_fk_and_json_paths() -> None:
    prices = build_where(SPECS["product_prices"], [("product__pk__in", "4,5")])
    assert prices.sql() == '((t."product" IN (?,?)))'
    attrs = build_where(PRODUCTS, [("attributes__color", "red")])
    assert "json_extract" in attrs.sql()
    mapping = build_where(SPECS["cities"], [("mapping__code__exact", "1_IST")])
    assert "location_mappings" in mapping.sql() and mapping.args == ["city", "1_IST"]


def test_ranges_iexact_isnull_and_control_params() -> None:
    where = build_where(
        PRODUCTS,
        [
            ("pk__gte", "2"),
            ("name__iexact", "X"),
            ("parent__isnull", "true"),
            ("page", "3"),
            ("limit", "9"),
            ("sort", "-id"),
        ],
    )
    assert where.sql() == (
        '((t.id >= ?)) AND ((lower(t."name") = lower(?))) AND ((t."parent" IS NULL))'
    )


def test_unknown_filters_are_reported_not_applied() -> None:
    where = build_where(PRODUCTS, [("nonsense", "1"), ("sku", "a")])
    assert where.ignored == ["nonsense"] and where.args == ["a"]


def test_bad_typed_value_is_400() -> None:
    with pytest.raises(ApiError) as info:
        build_where(PRODUCTS, [("pk__in", "1,x")])
    assert info.value.status == 400


def test_sort_with_direction_and_stable_tiebreak() -> None:
    assert build_order(PRODUCTS, "-sku") == 't."sku" DESC, t.id ASC'
    assert build_order(PRODUCTS, "-id") == "t.id DESC"
    assert build_order(PRODUCTS, "unknown") == "t.id ASC"
    assert build_order(SPECS["integration_actions"], "version_date").startswith(
        't."version_date" ASC'
    )


def test_pagination_defaults_and_envelope() -> None:
    assert parse_page({}) == Page(1, 10)
    assert parse_page({"page": "2", "limit": "50000"}) == Page(2, 50000)
    assert parse_page({"limit": "-3"}) == Page(1, 10)
    with pytest.raises(ApiError):
        parse_page({"page": "0"})
    body = envelope([1], 21, Page(3, 10), "http://h/x/", [("limit", "10"), ("page", "3")])
    assert body["next"] is None and body["previous"] == "http://h/x/?limit=10&page=2"
    body = envelope([], 0, Page(1, 10), "http://h/x/", [])
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    with pytest.raises(ApiError):
        envelope([], 21, Page(4, 10), "http://h/x/", [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-12-28T10:28:17.186730Z", "2023-12-28T10:28:17.186730Z"),
        ("2024-01-01 12:00:00.123456", "2024-01-01T12:00:00.123456Z"),
        ("2024-01-01 12:00:00", "2024-01-01T12:00:00.000000Z"),
        ("2024-01-01T15:00:00+03:00", "2024-01-01T12:00:00.000000Z"),
    ],
)
def test_dates_are_normalized(text: str, expected: str) -> None:
    assert parse_datetime(text) == expected


def test_decimals_and_clock() -> None:
    assert parse_decimal("645670668.1") == "645670668.10"
    assert parse_decimal(18) == "18.00"
    with pytest.raises(ValueError):
        parse_decimal("abc")
    clock = Clock()
    stamps = [clock.now() for _ in range(500)]
    assert stamps == sorted(set(stamps))


def test_fault_rules_are_deterministic_with_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        config = FaultConfig(seed=seed)
        config.add({"pattern": "/products/", "action": "error", "status": 503, "rate": 0.5})
        return [config.decide("GET", "/api/v1/products/")[1] is not None for _ in range(40)]

    assert run(9) == run(9)
    assert 0 < sum(run(9)) < 40


def test_fault_rule_times_methods_and_flags() -> None:
    config = FaultConfig(latency_ms=5)
    config.add(parse_rule_flag("pattern=/orders/,action=lost_response,times=1"))
    config.add({"pattern": "/orders/", "action": "delay", "delay_ms": 30})
    assert config.decide("GET", "/api/v1/channel/1/orders/") == (35, None)
    delay, rule = config.decide("POST", "/api/v1/channel/1/create_orders/")
    assert delay == 5 and rule is None  # pattern /orders/ does not match create_orders
    delay, rule = config.decide("POST", "/api/v1/channel/1/orders/1/cancel/")
    assert rule is not None and rule.action == "lost_response"
    assert config.decide("POST", "/api/v1/channel/1/orders/1/cancel/")[1] is None
    with pytest.raises(ValueError):
        config.add({"pattern": "x", "action": "explode"})
    with pytest.raises(ValueError):
        config.add({"pattern": "x", "action": "error", "status": 418})


def test_terminal_batch_states_allow_nothing() -> None:
    assert TRANSITIONS["done"] == frozenset() and TRANSITIONS["fail"] == frozenset()
    assert "ongoing" not in TRANSITIONS["commit"]


def _dump(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT * FROM products ORDER BY id").fetchall()
    rows += conn.execute("SELECT * FROM product_prices ORDER BY id").fetchall()
    conn.close()
    return rows


def test_seeding_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    for name in ("a.db", "b.db"):
        store = Store(str(tmp_path / name))
        assert seed_catalog(store, 40) == 40
        assert seed_catalog(store, 40) == 0  # already seeded: untouched
        store.conn.close()
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db")


def test_seeded_catalog_has_everything(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"))
    seed_catalog(store, 20)
    counts = store.counts()
    assert counts["products"] == 20 and counts["product_prices"] == 40
    assert counts["product_stocks"] == 40 and counts["product_images"] == 22
    for table in (
        "cargos",
        "countries",
        "cities",
        "townships",
        "districts",
        "cancellation_reasons",
        "category_nodes",
        "attribute_configs",
        "attribute_values",
        "product_categories",
        "location_mappings",
    ):
        assert counts[table] > 0, table


@pytest.mark.slow
def test_hundred_thousand_products_seed_under_a_minute(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "big.db"))
    started = time.perf_counter()
    seed_catalog(store, 100_000)
    assert time.perf_counter() - started < 60
    assert store.count("products") == 100_000
