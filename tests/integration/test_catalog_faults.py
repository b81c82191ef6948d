"""The catalog under faults, through a real worker: errors, rate limits, lost answers and
jobs that never finish on both sides; every run either converges or fails its batch."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from channel_app_template.core.locks import KEY_PREFIX as LOCK_PREFIX
from channel_app_template.core.run.runner import time_limits
from tests.support.bad_rows import plant
from tests.support.sync_stack import PREFIX, SyncStack, sync_stack

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


@pytest.mark.parametrize(
    "fanout",
    [{}, {"FANOUT_MIN_OBJECTS": "100", "FANOUT_WINDOW": "100"}],
    ids=["one_process", "fanned_out"],
)
def test_faults_on_both_sides_converge_without_duplicates(fanout: dict[str, str]) -> None:
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
    fanned_out = False
    with sync_stack(
        150, omnitron_args=omnitron_faults, market_args=market_faults, **fanout
    ) as stack:
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
                summary = run_quietly(stack, task) or {}
                fanned_out |= any("windows" in run for run in summary.get("runs", []))
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
    assert fanned_out == bool(fanout)


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


# --- Hostile catalog data and runs that overstay, through the real worker -----------------


def reports_by_object(stack: SyncStack, model: str) -> dict[int, list[str]]:
    api = stack.omnitron.client()
    kind = api.ok("GET", f"/content_types/?model={model}")["results"][0]["id"]
    found: dict[int, list[str]] = {}
    for report in api.all_pages("/channel/1/error_reports/", limit=500):
        if report["action_content_type"] == kind:
            found.setdefault(report["action_object_id"], []).append(report["error_desc"])
    return found


def set_price(stack: SyncStack, product: int, price: str) -> None:
    api = stack.omnitron.client()
    row = api.ok("GET", f"/channel/1/product_prices/?product={product}")["results"][0]
    api.ok("PATCH", f"/product_prices/{row['pk']}/", {"price": price})


def lock_is_free(stack: SyncStack, name: str) -> bool:
    client = redis.Redis(port=stack.redis.port)
    try:
        return not client.exists(f"{LOCK_PREFIX}{name}")
    finally:
        client.close()


def test_bad_catalog_rows_fail_alone_and_fixed_ones_are_sent_again() -> None:
    count = 300
    with sync_stack(count) as stack:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
        ):
            stack.run(task)
        api = stack.omnitron.client()
        api.ok("PATCH", "/products/3/", {"attributes": None})
        api.ok("PATCH", "/products/9/", {"attributes": ["not", "an", "object"]})
        plant(stack.omnitron, "products", 5, modified_date="2099-01-01T00:00:00.000000Z")
        plant(stack.omnitron, "products", 6, modified_date="yesterday-ish")
        set_price(stack, 10, "0.00")  # the marketplace refuses a price that is not positive
        set_price(stack, 11, "0.00")
        bad = {3, 5, 6, 9, 10, 11}
        stack.run("insert_and_update_products")
        stack.until_settled("products")
        skus = {p["pk"]: p["sku"] for p in api.all_pages("/channel/1/products/", limit=500)}
        market = [p.sku for p in stack.market.client().iter_products()]
        assert sorted(market) == sorted(sku for pk, sku in skus.items() if pk not in bad)
        mapped = {a["object_id"]: a for a in actions(stack, "product")}
        assert {pk for pk, a in mapped.items() if a["status"] == "success"} == set(skus) - bad
        assert {mapped[pk]["status"] for pk in (3, 9, 10, 11)} == {"error"}
        assert 5 not in mapped and 6 not in mapped  # a bad date is never recorded
        reported = reports_by_object(stack, "product")
        assert {pk: len(reported.get(pk, [])) for pk in bad} == dict.fromkeys(bad, 1)
        assert "non_positive_price" in reported[10][0] and "cannot read" in reported[3][0]
        # The next run sends nothing and says nothing new.
        again = stack.run("insert_and_update_products")
        assert all("batches" not in run for run in again["runs"]), again
        assert {pk: len(reports_by_object(stack, "product").get(pk, [])) for pk in bad} == (
            dict.fromkeys(bad, 1)
        )
        # A fixed price sends its product again by itself; an operator re-sends the other.
        set_price(stack, 10, "25.00")
        stack.run("insert_and_update_products")
        stack.until_settled("products")
        set_price(stack, 11, "25.00")
        result = stack.celery.send_task(
            PREFIX + "resend_failed", kwargs={"content_type": "product", "skus": [skus[11]]}
        ).get(timeout=120)
        assert result["runs"][0]["resent"] == 1, result
        stack.until_settled("products")
        mapped = {a["object_id"]: a for a in actions(stack, "product")}
        assert mapped[10]["status"] == mapped[11]["status"] == "success"
        market = [p.sku for p in stack.market.client().iter_products()]
        assert len(market) == len(set(market)) == count - 4  # each synced product once
        assert stack.omnitron.inspect("batch_requests/?status=commit&limit=1")["count"] == 0


def test_a_run_over_its_budget_stops_frees_its_lock_and_says_why() -> None:
    with sync_stack(50, FLOW_TIME_BUDGET="1") as stack:
        stack.omnitron.call(
            "POST",
            "/_sandbox/faults/rules/",
            {"pattern": "/products/inserts/", "action": "delay", "delay_ms": 1500},
        )
        summary = stack.run("insert_and_update_products", timeout=120)
        stopped = [run["stopped"] for run in summary["runs"] if run.get("stopped")]
        assert stopped and "1s time budget" in stopped[0], summary
        assert lock_is_free(stack, "catalog:product")
        assert stack.omnitron.inspect("batch_requests/?status=commit&limit=1")["count"] == 0
        deadline = time.monotonic() + 30
        while "insert_and_update_products stopped after" not in stack.worker.output():
            assert time.monotonic() < deadline, stack.logs()
            time.sleep(0.2)


def test_celery_soft_time_limit_closes_the_batch_and_frees_the_lock() -> None:
    """A run stuck inside one call (the budget is checked between calls) is stopped by
    Celery's soft time limit, FLOW_TIME_BUDGET plus a margin, like any other error."""
    budget = 5.0
    soft, _hard = time_limits(budget)
    with sync_stack(20, FLOW_TIME_BUDGET=str(budget), OMNITRON_READ_TIMEOUT="600") as stack:
        stack.omnitron.call(
            "POST",
            "/_sandbox/faults/rules/",
            {  # the batch commit hangs, once, far longer than the soft limit
                "pattern": r"/batch_requests/\d+/$",
                "action": "delay",
                "delay_ms": 300_000,
                "methods": ["PATCH"],
                "times": 1,
            },
        )
        started = time.monotonic()
        summary = stack.run("insert_and_update_products", timeout=soft + 120)
        took = time.monotonic() - started
        assert "soft time limit" in summary.get("stopped", ""), summary
        assert soft - 1 <= took < soft + 60, took
        assert lock_is_free(stack, "catalog:product")
        statuses = [
            b["status"]
            for b in stack.omnitron.inspect("batch_requests/?content_type=&limit=10")["results"]
        ]
        assert statuses == ["fail"], statuses
