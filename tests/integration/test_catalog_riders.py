"""A product's stock, price and images riding in its batch (``product_carries``): they are
committed with the product, take its result, and their own flows have nothing left to send.

Against the real Omnitron simulator, with the in-test marketplace of the engine tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from channel_app_template.akinon.integration import OPEN_REMOTE, Tracked
from channel_app_template.core.engine.resources import PRICES, PRODUCTS, STOCKS
from tests.support import fake_market
from tests.support.fake_market import REJECTED, FakeMarket, actions, make_engine, products, reports
from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
PRODUCT_COUNT = 40
CARRIED = {"productstock": "product_stocks", "productprice": "product_prices"}


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=PRODUCT_COUNT) as running:
        yield running


def carrying(sim: OmnitronSim, cache: redis.Redis) -> tuple[Any, FakeMarket]:
    engine, market = make_engine(sim, cache)
    # this channel's product payload carries the stock and price (FakeMarket keeps them)
    type(market).product_carries = frozenset({"stocks", "prices"})
    return engine, market


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    FakeMarket.product_carries = frozenset()


def rows(sim: OmnitronSim, path: str) -> dict[int, dict[str, Any]]:
    return {r["pk"]: r for r in sim.client().all_pages(f"/channel/1/{path}/", limit=500)}


def test_a_products_stock_and_price_take_its_result(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, _ = carrying(sim, cache)
    summary = engine.send(PRODUCTS, "inserts")
    assert summary.succeeded == PRODUCT_COUNT - len(REJECTED)
    assert summary.failed == len(REJECTED)  # the products' own outcome, riders not counted
    by_pk = products(sim)
    product_actions = {a["object_id"]: a for a in actions(sim, "product")}
    carried = 0
    for model, path in CARRIED.items():
        found = rows(sim, path)
        mapped = {a["object_id"]: a for a in actions(sim, model)}
        for pk, row in found.items():
            action, product = mapped[pk], product_actions[row["product"]]
            assert action["version_date"] == row["modified_date"]  # as read for the payload
            if by_pk[row["product"]]["sku"] in REJECTED:
                assert action["status"] == "error" and not action["remote_id"]
            else:
                assert action["status"] == "success"
                assert action["remote_id"] == product["remote_id"]
                carried += 1
    assert summary.carried == carried > 0
    # one error report per refused product, none for what rode with it
    rejected = {pk for pk, p in by_pk.items() if p["sku"] in REJECTED}
    assert sorted(r["action_object_id"] for r in reports(sim)) == sorted(rejected)
    # their own flows find nothing left: no batch is opened
    for resource in (STOCKS, PRICES):
        assert engine.send(resource, "inserts").batches == []


def test_a_row_another_batch_holds_does_not_ride(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, _ = carrying(sim, cache)
    stocks = rows(sim, "product_stocks")
    held_pk, held = next(iter(stocks.items()))
    other = engine.omnitron.open_batch()
    engine.omnitron.commit(
        other, "productstock", [Tracked(held_pk, "productstock", held["modified_date"])]
    )
    engine.send(PRODUCTS, "inserts")
    mapped = {a["object_id"]: a for a in actions(sim, "productstock")}
    assert mapped[held_pk]["status"] == "processing"
    assert mapped[held_pk]["local_batch_id"] == other.local_batch_id
    assert sum(a["status"] == "success" for a in mapped.values()) == len(stocks) - 1 - len(REJECTED)


def test_riders_of_asynchronous_batches_settle_in_the_check_run(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    engine, market = carrying(sim, cache)
    market.asynchronous = True
    sent = engine.send(PRODUCTS, "inserts")
    assert sent.submitted == PRODUCT_COUNT and sent.carried == 0
    assert {a["status"] for a in actions(sim, "productstock")} == {"processing"}
    checked = engine.check(PRODUCTS)  # three batches, settled side by side
    assert len(checked.batches) == 3
    assert checked.succeeded == PRODUCT_COUNT - len(REJECTED)
    assert checked.carried == 2 * (PRODUCT_COUNT - len(REJECTED))
    assert {a["status"] for a in actions(sim, "productprice")} == {"success", "error"}
    assert engine.omnitron.batches(OPEN_REMOTE, None) == []


def test_images_ride_when_the_channel_says_so(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    type(market).product_carries = frozenset({"images"})
    engine.send(PRODUCTS, "inserts")
    images = rows(sim, "product_images")
    mapped = {a["object_id"]: a for a in actions(sim, "productimage")}
    active = [pk for pk, image in images.items() if image.get("is_active") is not False]
    assert active and all(mapped[pk]["status"] in ("success", "error") for pk in active)
    assert not actions(sim, "productstock")  # only what the channel declared rides
    left = rows(sim, "product_images/inserts")  # the images flow's view: only what did not ride
    assert set(left) == set(images) - set(active)


def test_a_refused_products_riders_sync_when_an_operator_resends_it(
    sim: OmnitronSim, cache: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _ = carrying(sim, cache)
    engine.send(PRODUCTS, "inserts")
    monkeypatch.setattr(fake_market, "REJECTED", set())  # the marketplace takes them now
    again = engine.resend(PRODUCTS, None)  # objects read afresh, committed before prepared
    assert again.succeeded == len(REJECTED) and again.carried == 2 * len(REJECTED)
    for model in CARRIED:
        assert {a["status"] for a in actions(sim, model)} == {"success"}


def test_updates_leave_synced_rows_to_their_own_flows(
    sim: OmnitronSim, cache: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, market = carrying(sim, cache)
    engine.send(PRODUCTS, "inserts")
    client = sim.client()
    stocks = rows(sim, "product_stocks")
    stock_pk, stock = next(
        (pk, row)
        for pk, row in stocks.items()
        if products(sim)[row["product"]]["sku"] not in REJECTED
    )
    client.ok("PATCH", f"/products/{stock['product']}/", {"name": "Renamed"})
    client.ok("PATCH", f"/product_stocks/{stock_pk}/", {"stock": 77})
    market.refuse = lambda item: "refused this time"  # the product's update fails
    update = engine.send(PRODUCTS, "updates")
    assert update.failed == 1 and update.carried == 0
    mapped = {a["object_id"]: a for a in actions(sim, "productstock")}
    assert mapped[stock_pk]["status"] == "success"  # not failed with its product
    assert mapped[stock_pk]["version_date"] == stock["modified_date"]  # the first day's
    market.refuse = None
    sent = engine.send(STOCKS, "updates")  # its own flow sends the change
    assert sent.succeeded == 1 and market.stocks[products(sim)[stock["product"]]["sku"]] == 77
