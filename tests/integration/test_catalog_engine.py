"""The catalog engine against the real Omnitron simulator, with an in-test channel.

The channel here is a plain in-memory marketplace, so these tests pin the engine's own
guarantees (batches closed, version dates, matching, error reports, async checks);
the reference marketplace is exercised end to end through Celery elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import pytest
import redis

from channel_app_template.channel import (
    ProductBatchRequestResponseDto,
    ProductItem,
    ResponseStatus,
)
from channel_app_template.core.engine.resources import DELETED_PRODUCTS, PRICES, PRODUCTS, STOCKS
from channel_app_template.errors import ChannelAppError
from tests.support.fake_market import REJECTED, actions, batches, make_engine, products
from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
PRODUCT_COUNT = 40


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=PRODUCT_COUNT) as running:
        yield running


def test_products_sync_with_rejections_and_reports(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.succeeded == PRODUCT_COUNT - len(REJECTED)
    assert summary.failed == len(REJECTED)
    assert len(summary.batches) == 3  # 40 products in batches of at most 15
    assert all(b["status"] == "done" for b in batches(sim))
    by_pk = products(sim)
    mapped = {a["object_id"]: a for a in actions(sim, "product")}
    assert len(mapped) == PRODUCT_COUNT
    for pk, action in mapped.items():
        sku = by_pk[pk]["sku"]
        assert action["version_date"] == by_pk[pk]["modified_date"]
        if sku in REJECTED:
            assert action["status"] == "error" and not action["remote_id"]
        else:
            assert action["status"] == "success"
            assert action["remote_id"] == f"mp-{sku}" == market.products[sku]["id"]
    reports = sim.client().all_pages("/channel/1/error_reports/")
    rejected_pks = {pk for pk, p in by_pk.items() if p["sku"] in REJECTED}
    assert {r["action_object_id"] for r in reports} == rejected_pks
    assert all("title too long" in r["error_desc"] for r in reports)
    # Nothing left to do: a second run opens no batch at all.
    before = len(batches(sim))
    again = engine.send(PRODUCTS, "inserts")
    assert again.batches == [] and len(batches(sim)) == before


def test_change_during_flight_is_not_lost(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    client = sim.client()
    changed: list[int] = []

    def edit_while_sending(items: Sequence[ProductItem]) -> None:
        if changed:
            return
        for item in items[:5]:
            client.ok("PATCH", f"/products/{item.obj.pk}/", {"name": "Edited in flight"})
            changed.append(int(item.obj.pk or 0))

    market.on_send = edit_while_sending
    engine.send(PRODUCTS, "inserts")
    assert all(
        market.products[p["sku"]]["name"] != "Edited in flight"
        for pk, p in products(sim).items()
        if pk in changed
    )
    market.on_send = None
    update = engine.send(PRODUCTS, "updates")
    assert update.succeeded == len(changed)
    for pk, product in products(sim).items():
        if pk in changed:
            assert market.products[product["sku"]]["name"] == "Edited in flight"


def test_exception_closes_the_batch_and_releases_objects(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    engine, market = make_engine(sim, cache)
    market.fail_with = ChannelAppError("marketplace exploded")
    with pytest.raises(ChannelAppError):
        engine.send(PRODUCTS, "inserts")
    assert [b["status"] for b in batches(sim)] == ["fail"]
    assert not [a for a in actions(sim, "product") if a["status"] == "processing"]
    market.fail_with = None
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.succeeded == PRODUCT_COUNT - len(REJECTED)


def test_async_products_through_the_check_flow(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    market.asynchronous = True
    sent = engine.send(PRODUCTS, "inserts")
    assert sent.submitted == PRODUCT_COUNT and sent.succeeded == 0
    assert {b["status"] for b in batches(sim)} == {"sent_to_remote"}
    for job in market.jobs:
        market.jobs[job] = None  # the marketplace is still working
    still = engine.check(PRODUCTS)
    assert still.still_running == 3
    assert {b["status"] for b in batches(sim)} == {"ongoing"}
    # The marketplace finishes the jobs: rows for every sku each batch carried.
    rows = {}
    for batch in batches(sim):
        journal = engine.journal.load(batch["id"])
        assert journal is not None
        covers = journal.covers
        rows[batch["remote_batch_id"]] = [
            ProductBatchRequestResponseDto(
                status=ResponseStatus.FAIL if sku in REJECTED else ResponseStatus.SUCCESS,
                sku=sku,
                remote_id="" if sku in REJECTED else f"mp-{sku}",
                message="no",
            )
            for sku in covers
        ]
    market.jobs = rows  # type: ignore[assignment]
    done = engine.check(PRODUCTS)
    assert done.succeeded == PRODUCT_COUNT - len(REJECTED) and done.failed == len(REJECTED)
    assert {b["status"] for b in batches(sim)} == {"done"}
    assert sum(a["status"] == "success" for a in actions(sim, "product")) == 38


def test_async_batch_that_never_finishes_times_out(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    market.asynchronous = True
    engine.send(PRODUCTS, "inserts")
    market.jobs = dict.fromkeys(market.jobs)  # never finishes
    engine.options.stale_after = 0.0
    summary = engine.check(PRODUCTS)
    assert summary.timed_out == 3
    assert {b["status"] for b in batches(sim)} == {"fail"}
    assert all(a["status"] == "error" for a in actions(sim, "product"))


def test_stocks_and_prices_follow_their_products(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    early = engine.send(STOCKS, "inserts")
    assert early.batches == []  # no product on the channel yet: nothing pending
    engine.send(PRODUCTS, "inserts")
    stocks = engine.send(STOCKS, "inserts")
    prices = engine.send(PRICES, "inserts")
    assert stocks.succeeded == prices.succeeded == PRODUCT_COUNT - len(REJECTED)
    assert len(market.stocks) == len(market.prices) == PRODUCT_COUNT - len(REJECTED)
    stock_actions = actions(sim, "productstock")
    assert all(a["remote_id"].startswith("mp-") for a in stock_actions)


def test_deleted_products_are_removed_and_unmapped(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    engine.send(PRODUCTS, "inserts")
    client = sim.client()
    doomed = [pk for pk, p in products(sim).items() if p["sku"] not in REJECTED][:3]
    for pk in doomed:
        client.ok("DELETE", f"/products/{pk}/")
    summary = engine.send(DELETED_PRODUCTS, "deleted")
    assert summary.succeeded == 3
    remaining = {a["object_id"] for a in actions(sim, "product")}
    assert not remaining & set(doomed)
    assert len(market.products) == PRODUCT_COUNT - len(REJECTED) - 3
    assert batches(sim)[-1]["status"] == "done"


def test_unsendable_object_in_an_async_batch_is_settled_as_error(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    """An object that cannot even be sent (no matching key) must end ``error`` with one
    report when its asynchronous batch is settled, not be silently released."""
    engine, market = make_engine(sim, cache)
    client = sim.client()
    client.ok("PATCH", "/products/5/", {"sku": ""})
    market.asynchronous = True
    engine.send(PRODUCTS, "inserts")
    engine.check(PRODUCTS)
    actions_by_pk = {a["object_id"]: a for a in actions(sim, "product")}
    assert actions_by_pk[5]["status"] == "error"
    assert {b["status"] for b in batches(sim)} == {"done"}
    reports = [
        r for r in client.all_pages("/channel/1/error_reports/") if r["action_object_id"] == 5
    ]
    assert len(reports) == 1 and "matching key" in reports[0]["error_desc"]
    again = engine.send(PRODUCTS, "inserts")  # not pending again until it is changed
    assert again.batches == []


def test_engine_log_lines_carry_flow_batch_and_counts(
    sim: OmnitronSim, cache: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _ = make_engine(sim, cache)
    with caplog.at_level(logging.INFO, logger="channel_app_template.core.engine.flows"):
        summary = engine.send(PRODUCTS, "inserts")
    settled = [r for r in caplog.records if getattr(r, "batch", None) is not None]
    assert {getattr(r, "batch", None) for r in settled} >= set(summary.batches)
    assert all(getattr(r, "flow", None) == "products" for r in settled)
    done = [r for r in settled if hasattr(r, "succeeded")]
    assert sum(getattr(r, "succeeded", 0) for r in done) == summary.succeeded
    [run] = [r for r in caplog.records if getattr(r, "kind", None) == "inserts"]
    assert (getattr(run, "sent", None), getattr(run, "failed", None)) == (
        summary.sent,
        summary.failed,
    )
