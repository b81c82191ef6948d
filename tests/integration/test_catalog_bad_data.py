"""Bad catalog data against the real Omnitron simulator: every bad row, date or refusal is
one bad object (reported once, never stopping the others, never spinning), failed objects
are re-sent when what they failed for changes (bounded, with backoff) or when an operator
asks, and a run over its budget stops between batches with everything closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from channel_app_template.channel import ProductItem
from channel_app_template.core.budget import Budget
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.resources import DELETED_PRODUCTS, PRODUCTS, STOCKS
from tests.support.bad_rows import plant
from tests.support.fake_market import (
    REJECTED,
    actions,
    batches,
    make_engine,
    products,
    reports,
)
from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
PRODUCT_COUNT = 40
SECRET_LOOKING = "planted-value-9f3"  # a value planted in bad rows: never in a report


@pytest.fixture
def cache(cache: redis.Redis) -> redis.Redis:
    """conftest's module-wide redis-server, emptied: every test starts with no memory."""
    cache.flushdb()
    return cache


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=PRODUCT_COUNT) as running:
        yield running


def by_object(sim: OmnitronSim, model: str) -> dict[int, dict[str, Any]]:
    return {a["object_id"]: a for a in actions(sim, model)}


def reports_on(sim: OmnitronSim, pk: int, model: str = "product") -> list[dict[str, Any]]:
    kind = sim.client().ok("GET", f"/content_types/?model={model}")["results"][0]["id"]
    return [
        r for r in reports(sim) if r["action_object_id"] == pk and r["action_content_type"] == kind
    ]


def price_of(api: ApiClient, product: int) -> dict[str, Any]:
    found: dict[str, Any] = api.ok("GET", f"/channel/1/product_prices/?product={product}")[
        "results"
    ][0]
    return found


def set_price(api: ApiClient, product: int, price: str) -> None:
    api.ok("PATCH", f"/product_prices/{price_of(api, product)['pk']}/", {"price": price})


def cheap(item: ProductItem) -> str | None:
    """The test marketplace's price rule: below 5 is refused."""
    price = item.details.price if item.details else None
    if price is not None and price.price is not None and price.price < 5:
        return "price below the marketplace minimum"
    return None


# --- 10.3: unreadable rows ----------------------------------------------------------------


def test_unreadable_product_rows_fail_alone_once_and_are_sent_when_fixed(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    api = sim.client()
    bad = {3: {"attributes": None}, 9: {"attributes": [SECRET_LOOKING]}}
    bad[21] = {"extra_attributes": SECRET_LOOKING}
    for pk, change in bad.items():
        api.ok("PATCH", f"/products/{pk}/", change)
    engine, market = make_engine(sim, cache, book=FailureBook(cache, 1))
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.unreadable == len(bad)
    assert summary.succeeded == PRODUCT_COUNT - len(bad) - len(REJECTED)
    assert {b["status"] for b in batches(sim)} == {"done"}
    current = products(sim)
    mapped = by_object(sim, "product")
    for pk in bad:
        # failed in Omnitron with the date it was read with: out of the pending view
        assert mapped[pk]["status"] == "error"
        assert mapped[pk]["version_date"] == current[pk]["modified_date"]
        assert current[pk]["sku"] not in market.products
        [report] = reports_on(sim, pk)
        assert "cannot read" in report["error_desc"]
        assert SECRET_LOOKING not in report["error_desc"]
    assert "attributes (dict_type)" in reports_on(sim, 3)[0]["error_desc"]
    # The next run neither sends nor reports them again.
    again = engine.send(PRODUCTS, "inserts")
    assert again.batches == [] and again.unreadable == 0
    assert all(len(reports_on(sim, pk)) == 1 for pk in bad)
    # The merchant fixes one: it is pending again, and sent.
    api.ok("PATCH", "/products/3/", {"attributes": {"color": "blue"}})
    fixed = engine.send(PRODUCTS, "inserts")
    assert fixed.succeeded == 1 and by_object(sim, "product")[3]["status"] == "success"


def test_an_unreadable_stock_row_fails_alone(sim: OmnitronSim, cache: redis.Redis) -> None:
    api = sim.client()
    engine, _market = make_engine(sim, cache, book=FailureBook(cache, 1))
    engine.send(PRODUCTS, "inserts")
    stock = api.ok("GET", "/channel/1/product_stocks/?product=4")["results"][0]
    api.ok("PATCH", f"/product_stocks/{stock['pk']}/", {"extra_field": [SECRET_LOOKING]})
    summary = engine.send(STOCKS, "inserts")
    assert summary.unreadable == 1
    assert summary.succeeded == PRODUCT_COUNT - len(REJECTED) - 1
    assert by_object(sim, "productstock")[stock["pk"]]["status"] == "error"
    assert len(reports_on(sim, stock["pk"], "productstock")) == 1
    assert engine.send(STOCKS, "inserts").batches == []


# --- 11.6: dates --------------------------------------------------------------------------


def test_bad_modified_dates_fail_alone_are_reported_once_and_never_recorded(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    planted = {4: "not-a-date", 5: "2099-01-01T00:00:00.000000Z", 6: None}
    for pk, value in planted.items():
        plant(sim, "products", pk, modified_date=value)
    engine, _market = make_engine(sim, cache, book=FailureBook(cache, 1))
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.bad_dates == len(planted)
    assert summary.succeeded == PRODUCT_COUNT - len(planted) - len(REJECTED)
    assert {b["status"] for b in batches(sim)} == {"done"}
    mapped = by_object(sim, "product")
    for pk in planted:
        assert pk not in mapped  # not recorded: no version_date from a bad date
        [report] = reports_on(sim, pk)
        assert "not sent" in report["error_desc"]
    assert "ahead of this app's clock" in reports_on(sim, 5)[0]["error_desc"]
    again = engine.send(PRODUCTS, "inserts")
    assert again.batches == [] and again.bad_dates == len(planted)
    assert all(len(reports_on(sim, pk)) == 1 for pk in planted)
    # A real edit gives the product a sane date: it is sent, with that date recorded.
    sim.client().ok("PATCH", "/products/5/", {"name": "Edited by the merchant"})
    edited = engine.send(PRODUCTS, "inserts")
    assert edited.succeeded == 1
    assert by_object(sim, "product")[5]["version_date"] == products(sim)[5]["modified_date"]


def test_a_future_date_is_not_recorded_so_every_later_edit_is_sent(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    engine, market = make_engine(sim, cache, book=FailureBook(cache, 1))
    engine.send(PRODUCTS, "inserts")
    before = by_object(sim, "product")[8]["version_date"]
    plant(sim, "products", 8, modified_date="2099-01-01T00:00:00.000000Z", name="From 2099")
    summary = engine.send(PRODUCTS, "updates")
    assert summary.bad_dates == 1 and summary.batches == []
    assert by_object(sim, "product")[8]["version_date"] == before
    sku = products(sim)[8]["sku"]
    api = sim.client()
    for edit in range(4):
        api.ok("PATCH", "/products/8/", {"name": f"Real edit {edit}"})
        sent = engine.send(PRODUCTS, "updates")
        assert sent.succeeded == 1, edit
        assert market.products[sku]["name"] == f"Real edit {edit}"


# --- 10.4: failed objects re-sent when what they failed for changes -------------------------


def test_a_product_refused_for_its_price_is_resent_once_the_price_changes(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    api = sim.client()
    engine, market = make_engine(sim, cache, book=FailureBook(cache, 1))
    market.refuse = cheap
    set_price(api, 10, "1.00")
    engine.send(PRODUCTS, "inserts")
    sku = products(sim)[10]["sku"]
    assert by_object(sim, "product")[10]["status"] == "error" and sku not in market.products
    unchanged = engine.retry(PRODUCTS)
    assert unchanged.resent == 0 and unchanged.batches == []
    set_price(api, 10, "50.00")
    assert engine.send(PRODUCTS, "inserts").batches == []  # the product itself did not change
    retried = engine.retry(PRODUCTS)
    assert retried.resent == 1 and retried.succeeded == 1
    assert by_object(sim, "product")[10]["status"] == "success" and sku in market.products
    assert engine.retry(PRODUCTS).batches == []


def test_automatic_resends_wait_for_their_backoff_and_stop_after_their_attempts(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    api = sim.client()
    now = [1_000_000.0]
    book = FailureBook(cache, 1, max_attempts=2, backoff=100.0, clock=lambda: now[0])
    engine, market = make_engine(sim, cache, book=book)
    market.refuse = lambda item: "never" if getattr(item.obj, "pk", None) == 10 else None
    engine.send(PRODUCTS, "inserts")
    calls = market.calls
    set_price(api, 10, "20.00")
    first = engine.retry(PRODUCTS)
    assert first.resent == 1 and first.failed == 1  # attempt 1
    set_price(api, 10, "21.00")
    early = engine.retry(PRODUCTS)
    assert early.resent == 0 and early.waiting == 1  # its next try is 100 s away
    now[0] += 101
    second = engine.retry(PRODUCTS)
    assert second.resent == 1  # attempt 2: the last automatic one
    set_price(api, 10, "22.00")
    now[0] += 100_000
    parked = engine.retry(PRODUCTS)
    assert parked.resent == 0 and parked.parked == 1
    assert market.calls == calls + 2
    assert book.parked("product") == [10]
    # An operator re-sends it on demand, whatever its attempts; it now goes through.
    market.refuse = None
    forced = engine.resend(PRODUCTS, [10])
    assert forced.resent == 1 and forced.succeeded == 1
    assert by_object(sim, "product")[10]["status"] == "success"
    assert book.parked("product") == []


def test_an_operator_resends_every_failed_object_or_only_those_named(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    engine, market = make_engine(sim, cache, book=FailureBook(cache, 1))
    refused = {products(sim)[pk]["sku"] for pk in (11, 12, 14)}
    market.refuse = lambda item: "refused" if item.sku in refused else None
    engine.send(PRODUCTS, "inserts")
    market.refuse = None
    one = engine.resend(PRODUCTS, [11, 15])  # 15 did not fail: left alone
    assert one.resent == 1 and one.succeeded == 1
    rest = engine.resend(PRODUCTS, None)
    # 12 and 14, and the two the fake marketplace always refuses
    assert rest.resent == 2 + len(REJECTED) and rest.succeeded == 2
    statuses = by_object(sim, "product")
    assert all(statuses[pk]["status"] == "success" for pk in (11, 12, 14, 15))


def test_a_deletion_the_channel_refuses_is_retried_only_after_its_backoff(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    now = [5_000_000.0]
    book = FailureBook(cache, 1, max_attempts=3, backoff=300.0, clock=lambda: now[0])
    engine, market = make_engine(sim, cache, book=book)
    engine.send(PRODUCTS, "inserts")
    doomed = {pk: products(sim)[pk] for pk in (15, 16)}
    stuck = f"mp-{doomed[15]['sku']}"
    market.refuse = lambda item: "locked" if getattr(item, "remote_id", None) == stuck else None
    api = sim.client()
    for pk in doomed:
        api.ok("DELETE", f"/products/{pk}/")
    first = engine.send(DELETED_PRODUCTS, "deleted")
    assert first.succeeded == 1 and first.failed == 1
    sent = market.deletions
    for _ in range(3):  # runs every few minutes: the refused deletion waits its turn
        waiting = engine.send(DELETED_PRODUCTS, "deleted")
        assert waiting.waiting == 1 and waiting.batches == []
    assert market.deletions == sent
    now[0] += 301
    market.refuse = None
    later = engine.send(DELETED_PRODUCTS, "deleted")
    assert later.succeeded == 1 and market.deletions == sent + 1


# --- 11.5: the budget ------------------------------------------------------------------------


def test_a_run_over_its_budget_stops_between_batches_with_everything_closed(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    clock = [0.0]
    budget = Budget(10.0, 60.0, clock=lambda: clock[0])
    engine, market = make_engine(sim, cache, budget=budget)

    def slow_channel(items: Any) -> None:
        clock[0] += 6.0  # each channel call takes six "seconds"

    market.on_send = slow_channel
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.stopped is not None and "time budget" in summary.stopped
    assert len(summary.batches) == 2  # 40 products, 15 a batch: the third never started
    assert {b["status"] for b in batches(sim)} == {"done"}
    assert not [a for a in actions(sim, "product") if a["status"] == "processing"]
    pending = sim.client().ok("GET", "/channel/1/products/inserts/?limit=1")["count"]
    assert pending == PRODUCT_COUNT - 30  # left for the next run, not lost
