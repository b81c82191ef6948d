"""Orders both ways through a real worker, the reference integration and both simulators:
ingestion (with bad orders reported and parked), Omnitron's changes out, the marketplace's
line updates, cancellations and claims in, and Omnitron's decisions on claims back out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.sync_stack import SyncStack, sync_stack

pytestmark = pytest.mark.integration
GOOD, BAD = 30, 8


@pytest.fixture(scope="module")
def stack() -> Iterator[SyncStack]:
    with sync_stack(40, ORDER_MAX_ATTEMPTS="2") as running:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
            "insert_and_update_products",
        ):
            running.run(task)
        running.until_settled("products")
        status, body, _ = running.market.call(
            "POST",
            "/_sandbox/orders/generate/",
            {
                "count": GOOD + BAD,
                "items_per_order": [1, 3],
                "max_quantity": 3,
                "seed": 9,
                "bad": {
                    kind: 2 / (GOOD + BAD)
                    for kind in (
                        "unknown_product",
                        "unknown_cargo",
                        "unresolvable_address",
                        "malformed",
                    )
                },
            },
        )
        assert status == 201, body
        yield running


def market_orders(stack: SyncStack) -> list[Any]:
    return [o for o in stack.market.client().iter_orders(acknowledged=None) if hasattr(o, "lines")]


def ensure_ingested(stack: SyncStack) -> None:
    """Tests after the first may run alone (``-k``): make sure the good orders are in."""
    if stack.market.inspect("orders/counts/")["acknowledged"] < GOOD:
        stack.run("fetch_orders")


def omnitron_order(stack: SyncStack, number: str) -> dict[str, Any]:
    detail: dict[str, Any] = stack.omnitron.inspect(f"orders/{number}/")
    return detail


def test_good_orders_arrive_once_and_bad_ones_are_reported(stack: SyncStack) -> None:
    first = stack.run("fetch_orders")
    assert first["created"] == GOOD and first["acknowledged"] == GOOD, first
    assert first["failed"] == BAD and first["malformed"] == 2
    counts = stack.market.inspect("orders/counts/")
    assert counts["acknowledged"] == GOOD
    reports = stack.omnitron.client().all_pages("/channel/1/error_reports/", limit=500)
    text = " ".join(r["error_desc"] for r in reports)
    assert "surat" in text and "Atlantis" in text
    second = stack.run("fetch_orders")  # ORDER_MAX_ATTEMPTS=2: the bad ones park now
    assert second.get("created", 0) == 0 and second["parked"] == BAD
    third = stack.run("fetch_orders")
    assert third["skipped_parked"] == BAD and third.get("failed", 0) == 0
    listed = stack.run("list_parked_orders")
    assert len(listed["parked"]) == BAD
    for order in market_orders(stack):
        if order.acknowledged:
            detail = omnitron_order(stack, order.number)
            assert detail["count_with_number"] == 1
            units = sum(line.quantity for line in order.lines)
            assert len(detail["orderitem_set"]) == units


def test_omnitron_changes_reach_the_marketplace(stack: SyncStack) -> None:
    ensure_ingested(stack)
    order = next(o for o in market_orders(stack) if o.acknowledged)
    detail = omnitron_order(stack, order.number)
    client = stack.omnitron.client()
    for item in detail["orderitem_set"]:
        client.ok(
            "PATCH",
            f"/channel/1/order_items/{item['pk']}/",
            {"status": "500", "tracking_number": "TRK-42"},
        )
    summary = stack.run("update_orders")
    assert summary["runs"][0]["succeeded"] >= 1, summary
    shipped = stack.market.client().get_order(order.id)
    assert shipped is not None and shipped.status == "shipped"
    assert shipped.tracking_number == "TRK-42"
    again = stack.run("update_orders")
    assert "batches" not in again["runs"][0]


def test_marketplace_events_reach_omnitron_once(stack: SyncStack) -> None:
    ensure_ingested(stack)
    order = next(
        o
        for o in market_orders(stack)
        if o.acknowledged and o.status == "created" and o.lines[0].quantity >= 2
    )
    line = order.lines[0]
    stack.market.call(
        "POST",
        f"/_sandbox/orders/{order.id}/cancel/",
        {"lines": [{"line_id": line.line_id, "quantity": 1, "reason_code": "out_of_stock"}]},
    )
    other = order.lines[-1]
    stack.market.call(
        "POST",
        f"/_sandbox/orders/{order.id}/line-update/",
        {"line_id": other.line_id, "status": "picking"},
    )
    cancelled = stack.run("fetch_and_create_cancel")
    assert cancelled["applied"] == 1 and cancelled["acknowledged"] == 1
    assert stack.run("fetch_and_create_cancel").get("received", 0) == 0
    updated = stack.run("fetch_and_update_order_items")
    assert updated["applied"] >= 1
    items = omnitron_order(stack, order.number)["orderitem_set"]
    units = [i for i in items if i["extra_field"]["id"] == line.line_id]
    assert sorted(i["status"] for i in units).count("100") == 1


def test_claims_become_cancellation_requests_and_decisions_go_back(stack: SyncStack) -> None:
    ensure_ingested(stack)
    order = next(o for o in market_orders(stack) if o.acknowledged and o.status == "created")
    line = order.lines[0]
    status, claim, _ = stack.market.call(
        "POST",
        f"/_sandbox/orders/{order.id}/claims/",
        {"line_id": line.line_id, "type": "cancel", "reason_code": "changed_mind"},
    )
    assert status in (200, 201), claim
    created = stack.run("fetch_and_create_cancellation_requests")
    assert created["applied"] == 1
    assert stack.run("fetch_and_create_cancellation_requests").get("received", 0) == 0
    client = stack.omnitron.client()
    requests = client.all_pages("/channel/1/cancellation_requests/")
    mine = [r for r in requests if r["remote_id"] == claim["id"]]
    assert len(mine) == 1
    client.ok("PATCH", f"/channel/1/cancellation_requests/{mine[0]['id']}/", {"status": "approved"})
    decided = stack.run("update_cancellation_requests")
    assert decided["runs"][0]["succeeded"] == 1, decided
    final = stack.market.client().get_claim(claim["id"])
    assert final is not None and final.status == "approved"
