"""The catalog, end to end through a real Celery worker: Omnitron simulator ->
engine -> reference integration -> reference marketplace, all real processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.sync_stack import SyncStack, sync_stack

pytestmark = pytest.mark.integration
PRODUCTS = 1000


def all_actions(stack: SyncStack, model: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = stack.omnitron.inspect(
        f"integration_actions/?model={model}&limit=100000"
    )["results"]
    return rows


def setup_and_full_sync(stack: SyncStack) -> None:
    for task in (
        "update_channel_conf_schema",
        "create_or_update_category_tree_and_nodes",
        "create_or_update_category_attributes",
    ):
        stack.run(task)
    stack.run("insert_and_update_products")
    stack.until_settled("products")
    stack.run("insert_and_update_stocks")
    stack.run("insert_and_update_prices")
    stack.run("insert_and_update_images")
    stack.until_settled("images")


@pytest.fixture(scope="module")
def synced() -> Iterator[SyncStack]:
    with sync_stack(PRODUCTS) as stack:
        setup_and_full_sync(stack)
        yield stack


def test_every_product_stock_price_and_image_reaches_the_marketplace(synced: SyncStack) -> None:
    stack = synced
    omnitron = {
        p["sku"]: p for p in stack.omnitron.client().all_pages("/channel/1/products/", limit=1000)
    }
    assert len(omnitron) == PRODUCTS
    market = {p.sku: p for p in stack.market.client().iter_products()}
    assert set(market) == set(omnitron)
    actions = {a["object_id"]: a for a in all_actions(stack, "product")}
    assert len(actions) == PRODUCTS
    for product in omnitron.values():
        action = actions[product["pk"]]
        assert action["status"] == "success", action
        assert action["remote_id"] == market[product["sku"]].product_id
        assert action["version_date"] == product["modified_date"]
    stocks = stack.omnitron.client().all_pages("/channel/1/product_stocks/", limit=1000)
    prices = stack.omnitron.client().all_pages("/channel/1/product_prices/", limit=1000)
    by_pk = {p["pk"]: p["sku"] for p in omnitron.values()}
    for stock in stocks:
        assert market[by_pk[stock["product"]]].stock == stock["stock"]
    for price in prices:
        assert str(market[by_pk[price["product"]]].price.sale_price) == price["price"]
    assert all(m.images for m in market.values())
    for model in ("productstock", "productprice", "productimage"):
        assert {a["status"] for a in all_actions(stack, model)} == {"success"}, model
    assert stack.omnitron.inspect("batch_requests/?status=commit&limit=1")["count"] == 0


def test_a_second_run_sends_nothing(synced: SyncStack) -> None:
    summary = synced.run("insert_and_update_products")
    assert all("batches" not in run for run in summary["runs"]), summary


def test_rejected_products_get_reports_and_a_fix_is_retried(synced: SyncStack) -> None:
    stack = synced
    client = stack.omnitron.client()
    broken = client.all_pages("/channel/1/products/?limit=3", limit=3)[:3]
    for product in broken:
        attributes = {**product["attributes"], "color": "purple"}
        client.ok("PATCH", f"/products/{product['pk']}/", {"attributes": attributes})
    stack.run("insert_and_update_products")
    stack.until_settled("products")
    actions = {a["object_id"]: a for a in all_actions(stack, "product")}
    for product in broken:
        assert actions[product["pk"]]["status"] == "error"
    reports = client.all_pages("/channel/1/error_reports/", limit=1000)
    described = {r["action_object_id"]: r["error_desc"] for r in reports}
    assert all("attribute_value_not_allowed" in described[p["pk"]] for p in broken)
    for product in broken:
        client.ok("PATCH", f"/products/{product['pk']}/", {"attributes": product["attributes"]})
    stack.run("insert_and_update_products")
    stack.until_settled("products")
    actions = {a["object_id"]: a for a in all_actions(stack, "product")}
    assert all(actions[p["pk"]]["status"] == "success" for p in broken)


def test_changes_made_while_a_batch_is_in_flight_are_not_lost(synced: SyncStack) -> None:
    stack = synced
    client = stack.omnitron.client()
    targets = client.all_pages("/channel/1/products/?limit=50", limit=50)[:50]
    for product in targets:
        client.ok("PATCH", f"/products/{product['pk']}/", {"name": f"{product['name']} v2"})
    stack.market.call("POST", "/_sandbox/settings/", {"batch_delay": 3})
    stack.run("insert_and_update_products")  # sends the v2 names; the batch stays open
    for product in targets:  # edited again while the marketplace works on v2
        client.ok("PATCH", f"/products/{product['pk']}/", {"name": f"{product['name']} v3"})
    stack.market.call("POST", "/_sandbox/settings/", {"batch_delay": 0.2})
    time.sleep(3)
    stack.until_settled("products")
    stack.run("insert_and_update_products")  # the v3 edits are still pending: sent now
    stack.until_settled("products")
    market = {p.sku: p for p in stack.market.client().iter_products([p["sku"] for p in targets])}
    assert all(market[p["sku"]].title == f"{p['name']} v3" for p in targets)


def test_deleted_products_leave_the_marketplace(synced: SyncStack) -> None:
    stack = synced
    client = stack.omnitron.client()
    doomed = client.all_pages("/channel/1/products/?limit=5", limit=5)[:5]
    for product in doomed:
        client.ok("DELETE", f"/products/{product['pk']}/")
    summary = stack.run("delete_products")
    assert summary["runs"][0]["succeeded"] == 5
    for product in doomed:
        found = stack.market.client().get_product(product["sku"])
        assert found is not None and found.status == "deleted"
    remaining = {a["object_id"] for a in all_actions(stack, "product")}
    assert not remaining & {p["pk"] for p in doomed}
