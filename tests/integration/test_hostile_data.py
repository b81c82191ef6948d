"""Hostile data with real processes: good products and orders among one of each bad kind,
synced by the worker and beat as the Procfile starts them (see
:mod:`tests.support.hostile_data`).

Afterwards every good object is synced exactly once, every bad one has exactly one error
report and is failed or parked (never acknowledged, never dropped), the worker's memory
stayed flat, every flow run finished, and no run was skipped because the run holding its
lock was stuck.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from channel_app_template.core.runner import JOBS
from tests.support.hostile_data import (
    BAD_DATES,
    MB,
    NO_PK,
    FlowRun,
    HostileStack,
    RssWatch,
    describe_skips,
    hostile_stack,
    market_skus,
    omnitron_orders,
    product_actions,
    run_scenario,
    stuck_skips,
    unacknowledged,
    wind_down,
)

GOOD_PRODUCTS = 200
GOOD_ORDERS = 50
RSS_LIMIT = 50 * MB  # the bound on the worker's growth
DEADLINE = 300.0  # seconds for each phase (about 15 on an idle machine): generous


# --- Reading the simulators ------------------------------------------------------------


def omnitron_rows(stack: HostileStack, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = stack.omnitron.client().all_pages(path, limit=500)
    return rows


def product_reports(stack: HostileStack) -> Counter[int]:
    kind = stack.omnitron.client().ok("GET", "/content_types/?model=product")["results"][0]["id"]
    return Counter(
        r["action_object_id"]
        for r in omnitron_rows(stack, "/channel/1/error_reports/")
        if r["action_content_type"] == kind
    )


def sent_skus(stack: HostileStack) -> Counter[str]:
    """How often each SKU was sent to the marketplace in a product upsert."""
    sent: Counter[str] = Counter()
    for batch in stack.market.inspect("batches/?limit=1000")["items"]:
        detail = stack.market.inspect(f"batches/{batch['batch_id']}/")
        payload = detail.get("payload")
        items = payload.get("items") if isinstance(payload, dict) else payload
        sent.update(str(i.get("sku")) for i in items or [] if isinstance(i, dict) and "title" in i)
    return sent


# --- The scenario ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[HostileStack]:
    with hostile_stack(GOOD_PRODUCTS) as running:
        yield running


@pytest.mark.integration
@pytest.mark.timeout(4 * DEADLINE + 300)
def test_hostile_data_fails_alone_once_memory_stays_flat_and_no_run_waits_on_a_stuck_one(
    stack: HostileStack,
) -> None:
    good_skus = set(stack.good_products.values())
    watch = RssWatch(stack.worker).start()
    outcome = run_scenario(stack, watch, GOOD_ORDERS, deadline=DEADLINE)
    good_orders, bad_orders = outcome.good_orders, outcome.bad_orders
    runs = wind_down(stack, watch, deadline=DEADLINE)
    print(
        f"\nworker RSS {watch.baseline / MB:.0f} MB, peak +{watch.growth / MB:.1f} MB; "
        f"converged in {outcome.converged_seconds:.0f}s; {len(runs)} flow runs, "
        f"{sum(r.skipped for r in runs)} skipped, {sum(r.state == 'REVOKED' for r in runs)} expired"
    )
    for line in describe_skips(runs):
        print(line)

    # Memory: one order of 10**12 units costs nothing.
    assert not watch.killed
    assert watch.growth < RSS_LIMIT, f"the worker grew by {watch.growth / MB:.0f} MB"

    # Products: the good ones once each, the bad ones failed alone with one report each.
    assert market_skus(stack) == good_skus
    sent = sent_skus(stack)
    assert {sku: n for sku, n in sent.items() if n != 1} == {}, "a product sent twice"
    assert set(sent) == good_skus
    actions, reports = product_actions(stack), product_reports(stack)
    for pk in stack.good_products:
        [action] = actions[pk]
        assert action["status"] == "success" and action["remote_id"], action
        assert reports[pk] == 0, pk
    for shape, pk in stack.bad_products.items():
        if shape == NO_PK:
            continue
        assert reports[pk] == 1, (shape, reports[pk])
        if shape in BAD_DATES:
            assert pk not in actions, shape  # not recorded: its date cannot be
        else:
            assert [a["status"] for a in actions[pk]] == ["error"], shape
    # A row without a pk cannot carry an error report in Omnitron: it is never sent and
    # the worker says why.
    no_pk = stack.bad_products[NO_PK]
    assert no_pk not in actions and reports[no_pk] == 0
    assert "without a readable pk it cannot be failed in Omnitron" in stack.worker.output()

    # Orders: the good ones created once, mapped and acknowledged; the bad ones reported
    # once, parked, never acknowledged, never created.
    orders = omnitron_orders(stack)
    created = Counter(o["number"] for o in orders)
    assert {n: c for n, c in created.items() if n in good_orders} == dict.fromkeys(good_orders, 1)
    assert not set(created) & set(bad_orders)
    mapped = {
        a["object_id"]: a["remote_id"]
        for a in stack.omnitron.inspect("integration_actions/?model=order&limit=100000")["results"]
    }
    for order in orders:
        if order["number"] in good_orders:
            assert mapped.get(order["pk"]) == good_orders[order["number"]], order["number"]
    pending = unacknowledged(stack)
    assert not pending & set(good_orders)
    assert pending >= set(bad_orders)  # kept by the marketplace: nothing dropped
    codes = Counter(r["error_code"] for r in omnitron_rows(stack, "/channel/1/error_reports/"))
    for number, kind in bad_orders.items():
        reported = codes[f"Channel-GetOrders_{number}"]
        assert reported == 1, (kind, reported)
    assert not [n for n in good_orders if codes[f"Channel-GetOrders_{n}"]]
    assert stack.parked_orders() == set(bad_orders)

    # Runs: every one finished and none waited on a stuck one.
    assert_every_flow_run_finished(runs)
    assert stuck_skips(runs) == []


def assert_every_flow_run_finished(runs: list[FlowRun]) -> None:
    unfinished = [(r.name, r.state) for r in runs if r.state not in ("SUCCESS", "REVOKED")]
    assert unfinished == []
    stopped = [(r.name, r.stopped) for r in runs if r.stopped]
    assert stopped == []


# --- What "stuck" means, on runs made up for the purpose -----------------------------------


def made_up_run(name: str, started: float, ended: float | None, **summary: Any) -> FlowRun:
    lock = JOBS[name].lock_name
    run = FlowRun(f"id-{name}-{started}", name, lock, sent_by_beat=True, started=started)
    run.ended, run.state = ended, "SUCCESS" if ended is not None else "STARTED"
    run.heartbeats = [started] + ([ended] if ended is not None else [])
    run.summary = {"task": name, **summary} if ended is not None else None
    return run


def skip_at(name: str, at: float) -> FlowRun:
    return made_up_run(name, at, at + 0.05, skipped="another run of this flow is in progress")


def test_a_skip_behind_a_busy_run_that_makes_progress_is_expected() -> None:
    holder = made_up_run("fetch_orders", 100.0, 400.0)
    holder.heartbeats += [150.0, 250.0, 350.0]  # progress reports
    sharing = made_up_run("update_orders", 500.0, 510.0)
    runs = [holder, skip_at("fetch_orders", 200.0), sharing, skip_at("fetch_orders", 505.0)]
    assert stuck_skips(runs, stall=120.0) == []


@pytest.mark.parametrize(
    ("holder", "why"),
    [
        (made_up_run("fetch_orders", 100.0, 400.0), "300s without progress"),
        (made_up_run("fetch_orders", 100.0, 150.0, stopped="no progress"), "stopped"),
        (made_up_run("fetch_orders", 100.0, None), "never ended"),
    ],
)
def test_a_skip_behind_a_silent_stopped_or_endless_run_is_stuck(holder: FlowRun, why: str) -> None:
    problems = stuck_skips([holder, skip_at("update_orders", 120.0)], stall=120.0)
    assert len(problems) == 1 and why in problems[0], problems


def test_a_skip_with_no_live_holder_is_stuck_and_other_locks_do_not_count() -> None:
    other = made_up_run("check_products", 100.0, 300.0)
    problems = stuck_skips([other, skip_at("fetch_orders", 200.0)], stall=120.0)
    assert len(problems) == 1 and "no run held catalog:order" in problems[0]
