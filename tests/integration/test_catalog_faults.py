"""The catalog under faults, through a real worker: errors, rate limits, lost answers and
jobs that never finish on both sides; every run either converges or fails its batch."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.sync_stack import SyncStack, sync_stack

pytestmark = pytest.mark.integration


def actions(stack: SyncStack, model: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = stack.omnitron.inspect(
        f"integration_actions/?model={model}&limit=100000"
    )["results"]
    return rows


def run_quietly(stack: SyncStack, task: str) -> dict[str, Any] | None:
    """Run a task; a run that fails under injected faults is fine, it is retried."""
    try:
        return stack.run(task)
    except Exception:  # the next run must repair what this one left
        return None


def test_faults_on_both_sides_converge_without_duplicates() -> None:
    omnitron_faults = (
        "--seed",
        "7",
        "--latency-ms",
        "5",
        "--fault",
        "pattern=/products/inserts/,action=error,status=503,rate=0.3",
        "--fault",
        "pattern=/batch_requests/,action=error,status=502,rate=0.1",
        "--fault",
        "pattern=/integration_actions/,action=drop,rate=0.05",
        "--fault",
        "pattern=/error_reports/,action=lost_response,rate=0.5,methods=POST",
    )
    market_faults = (
        "--seed",
        "11",
        "--fault",
        "pattern=/api/v1/products,action=error,status=429,rate=0.2",
        "--fault",
        "pattern=/api/v1/batches/,action=error,status=503,rate=0.2",
        "--fault",
        "pattern=/api/v1/products/stock,action=lost_response,rate=0.3,methods=PUT",
    )
    with sync_stack(150, omnitron_args=omnitron_faults, market_args=market_faults) as stack:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
        ):
            for _ in range(5):
                if run_quietly(stack, task) is not None:
                    break
        for _ in range(25):
            for task in (
                "insert_and_update_products",
                "check_products",
                "insert_and_update_stocks",
            ):
                run_quietly(stack, task)
            done = [a for a in actions(stack, "product") if a["status"] == "success"]
            stocks = [a for a in actions(stack, "productstock") if a["status"] == "success"]
            if len(done) == 150 and len(stocks) == 150:
                break
            time.sleep(0.2)
        product_actions = actions(stack, "product")
        assert len(product_actions) == 150
        assert {a["status"] for a in product_actions} == {"success"}, stack.logs()
        assert {a["status"] for a in actions(stack, "productstock")} == {"success"}
        market = list(stack.market.client().iter_products())
        assert len(market) == len({p.sku for p in market}) == 150  # no duplicates
        assert stack.omnitron.inspect("batch_requests/?status=commit&limit=1")["count"] == 0


def test_a_job_that_never_finishes_times_out() -> None:
    with sync_stack(20, batch_delay=3600, BATCH_STALE_AFTER="1") as stack:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
            "insert_and_update_products",
        ):
            stack.run(task)
        first = stack.run("check_products")
        assert first["runs"][0].get("timed_out", 0) == 0
        time.sleep(1.5)
        summary = stack.run("check_products")
        assert summary["runs"][0]["timed_out"] == 1
        batches = stack.omnitron.inspect("batch_requests/?content_type=product&limit=10")
        assert [b["status"] for b in batches["results"]] == ["fail"]
        assert {a["status"] for a in actions(stack, "product")} == {"error"}
        reports = stack.omnitron.client().all_pages("/channel/1/error_reports/", limit=100)
        assert sum("did not finish the job in time" in r["error_desc"] for r in reports) == 20
