"""A big product send fanned out over a real Celery worker with 4 processes: every
product reaches the marketplace once with the right ``version_date``, progress is visible
for the whole run, and a worker process SIGKILLed while it holds a fanned-out batch leaves
nothing committed, lost or doubled once the flow has run again."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from typing import Any

import pytest
import redis

from tests.support.sync_stack import PREFIX, SyncStack, sync_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PRODUCTS = 3000
FANOUT = {"FANOUT_MIN_OBJECTS": "1000", "FANOUT_WINDOW": "500", "TASK_LOCK_TTL": "5"}
GATE_MARK = "channel_app_template:lock:commit-gate:1:product:held"


def setup(stack: SyncStack) -> None:
    for task in (
        "update_channel_conf_schema",
        "create_or_update_category_tree_and_nodes",
        "create_or_update_category_attributes",
    ):
        stack.run(task)


def pending_products(stack: SyncStack) -> int:
    count: int = stack.omnitron.client().ok("GET", "/channel/1/products/inserts/?limit=1")["count"]
    return count


def check_every_product_once(stack: SyncStack) -> None:
    """One success action per product, with the product's modified_date; each SKU once on
    the marketplace; no batch left committed."""
    client = stack.omnitron.client()
    products = client.all_pages("/channel/1/products/", limit=1000)
    assert len(products) == PRODUCTS
    actions: list[dict[str, Any]] = stack.omnitron.inspect(
        "integration_actions/?model=product&limit=100000"
    )["results"]
    per_object = Counter(a["object_id"] for a in actions)
    assert set(per_object.values()) == {1}
    by_pk = {a["object_id"]: a for a in actions}
    for product in products:
        action = by_pk[product["pk"]]
        assert action["status"] == "success", action
        assert action["version_date"] == product["modified_date"]
    skus = [p.sku for p in stack.market.client().iter_products()]
    assert len(skus) == len(set(skus)) == PRODUCTS
    assert committed(stack) == 0


def product_items_sent(stack: SyncStack) -> int:
    rows = stack.market.inspect("batches/?limit=1000")["items"]
    return sum(int(row["item_count"]) for row in rows if "product" in str(row["kind"]))


def test_a_fanned_out_product_sync_sends_every_product_once_with_its_version_date() -> None:
    with sync_stack(PRODUCTS, concurrency=4, **FANOUT) as stack:
        setup(stack)
        result = stack.celery.send_task(PREFIX + "insert_and_update_products")
        seen: list[dict[str, Any]] = []
        while not result.ready():
            if result.state == "PROGRESS" and isinstance(result.info, dict):
                seen.append(result.info)
            time.sleep(0.1)
        summary = result.get(timeout=5)
        stack.until_settled("products")
        inserts = summary["runs"][0]
        assert inserts["kind"] == "inserts" and inserts["windows"] == PRODUCTS // 500
        fanned = [meta for meta in seen if meta.get("fanned_out")]
        assert fanned, seen
        assert {meta["total"] for meta in fanned} == {PRODUCTS}
        done = [meta["done"] for meta in fanned]
        assert done == sorted(done)
        check_every_product_once(stack)
        assert product_items_sent(stack) == PRODUCTS
        again = stack.run("insert_and_update_products")
        assert all("batches" not in run for run in again["runs"]), again


def committed(stack: SyncStack) -> int:
    count: int = stack.omnitron.inspect("batch_requests/?status=commit&limit=1")["count"]
    return count


def kill_a_gate_holder(stack: SyncStack, spared: list[int], timeout: float = 90.0) -> int:
    """SIGKILL the worker process that holds the product commit gate while a batch is
    committed (its batch), once it is none of ``spared`` (a killed holder's mark stays
    until the next holder takes over)."""
    client = redis.Redis.from_url(stack.env["BROKER_URL"])

    def holder() -> int:
        mark = client.get(GATE_MARK)
        return int(mark.decode().split(":")[0]) if mark else 0

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            pid = holder()
            if pid and pid not in spared and committed(stack) and holder() == pid:
                os.kill(pid, signal.SIGKILL)
                return pid
            time.sleep(0.005)
    finally:
        client.close()
    raise AssertionError("no worker process ever held a committed product batch")


def test_a_worker_killed_holding_a_fanned_out_batch_leaves_nothing_committed_lost_or_doubled() -> (
    None
):
    with sync_stack(PRODUCTS, concurrency=4, **FANOUT) as stack:
        setup(stack)
        result = stack.celery.send_task(PREFIX + "insert_and_update_products")
        time.sleep(1.0)  # into the fan-out
        killed: list[int] = []
        for _ in range(2):
            killed.append(kill_a_gate_holder(stack, killed))
        result.get(timeout=300, propagate=False)
        for _ in range(10):  # the flow runs again (beat would) until nothing is pending
            time.sleep(1.0)
            summary = stack.run("insert_and_update_products")
            if "skipped" in summary:
                continue
            stack.until_settled("products")
            if pending_products(stack) == 0:
                break
        stack.until_settled("products")
        check_every_product_once(stack)
        assert "left committed by an interrupted run" in stack.worker.output()
