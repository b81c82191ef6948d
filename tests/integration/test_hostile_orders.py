"""Hostile order data through real processes: a Celery worker with the reference
integration, the Omnitron simulator and the reference marketplace simulator.

Good orders sit among orders carrying each nonsense value of the hostile-data review (a
quantity of 10**12, 5,000 units, negative prices and tax, a discount above the price,
currency XXXX, one product on two lines, 10 KB texts), and events and claims that cannot be
read sit among good ones. Every good item is synced exactly once; every bad one gets
exactly one error report, is never acknowledged and is parked; the worker's memory stays
flat (a watchdog stops the worker if it does not, so this test is safe to run on code that
expands a line per unit).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from tests.support.hostile_orders import ORDER_KINDS, plant_order, plant_row
from tests.support.processes import Service
from tests.support.sync_stack import PREFIX, SyncStack, sync_stack

pytestmark = pytest.mark.integration
GOOD = 12
MB = 1024 * 1024
RSS_LIMIT = 50 * MB  # the bound on the worker's growth during the hostile runs
RSS_KILL = 400 * MB  # past this the watchdog stops the worker: the machine is shared


@pytest.fixture(scope="module")
def stack() -> Iterator[SyncStack]:
    with sync_stack(20, ORDER_MAX_ATTEMPTS="2") as running:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
            "insert_and_update_products",
        ):
            running.run(task)
        running.until_settled("products")
        yield running


class RssWatch:
    """Samples the worker's process tree (its pool children included) in a thread."""

    def __init__(self, worker: Service) -> None:
        self.root = psutil.Process(worker.process.pid)
        self.baseline = self._rss()
        self.peak = self.baseline
        self.killed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _rss(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())
            if self.peak - self.baseline > RSS_KILL:
                self.killed = True
                for process in [*self.root.children(recursive=True), self.root]:
                    with contextlib.suppress(psutil.Error):
                        process.kill()
                return

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def run(stack: SyncStack, task: str, watch: RssWatch, timeout: float = 240.0) -> dict[str, Any]:
    """Send ``task`` and wait for its summary, giving up at once if the watchdog fired."""
    result = stack.celery.send_task(PREFIX + task)
    deadline = time.monotonic() + timeout
    while not result.ready():
        assert not watch.killed, f"{task}: the worker grew past {RSS_KILL // MB} MB"
        assert time.monotonic() < deadline, f"{task} did not finish in {timeout:.0f}s"
        time.sleep(0.1)
    summary: dict[str, Any] = result.get(propagate=True)
    return summary


def order_ids(made: dict[str, Any]) -> list[str]:
    first, last = (int(made[key][2:]) for key in ("first_order_id", "last_order_id"))
    return [f"MO{seq:08d}" for seq in range(first, last + 1)]


def reports(stack: SyncStack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = stack.omnitron.client().all_pages(
        "/channel/1/error_reports/", limit=500
    )
    return found


def test_hostile_orders_fail_alone_once_reported_parked_and_memory_stays_flat(
    stack: SyncStack,
) -> None:
    made = stack.market.generate_orders(
        GOOD, items_per_order=[1, 3], seed=5, max_quantity=3, number_prefix="H-"
    )
    good = {stack.market.order(i)["served"]["number"]: i for i in order_ids(made)}
    bad: dict[str, tuple[str, str]] = {}  # number -> (kind, order id)
    for kind in sorted(ORDER_KINDS):
        planted = plant_order(stack.market, kind)
        bad[planted["number"]] = (kind, planted["order_id"])

    run(stack, "ping", RssWatch(stack.worker))  # both pool children warm
    with RssWatch(stack.worker) as watch:
        first = run(stack, "fetch_orders", watch)
        second = run(stack, "fetch_orders", watch)
    print(f"worker RSS: {watch.baseline / MB:.0f} MB, peak growth {watch.growth / MB:.1f} MB")

    assert "skipped" not in first and "skipped" not in second
    assert first["created"] == GOOD and first["acknowledged"] == GOOD, first
    assert first["failed"] == len(bad) and first.get("over_limits") == 1, first
    assert second.get("created", 0) == 0 and second["parked"] == len(bad), second
    assert watch.growth < RSS_LIMIT, f"the worker grew by {watch.growth / MB:.0f} MB"

    numbers = [o["number"] for o in stack.omnitron.client().all_pages("/channel/1/orders/")]
    assert sorted(n for n in numbers if n.startswith("H-")) == sorted(good)  # once each
    for number, order_id in good.items():
        assert stack.market.order(order_id)["raw"]["acknowledged"], number
    codes = [r["error_code"] for r in reports(stack)]
    by_code = {r["error_code"]: r["error_desc"] for r in reports(stack)}
    for number, (kind, order_id) in bad.items():
        assert not stack.market.order(order_id)["raw"]["acknowledged"], kind
        code = f"Channel-GetOrders_{number}"
        assert codes.count(code) == 1, (kind, codes.count(code))
        assert "acknowledged" in by_code[code], kind
    (over,) = [n for n, (kind, _) in bad.items() if kind == "quantity_over_limit"]
    assert "ORDER_MAX_LINE_QUANTITY" in by_code[f"Channel-GetOrders_{over}"]
    parked = stack.run("list_parked_orders")["parked"]
    assert set(parked) == set(bad)


def test_an_unreadable_event_or_claim_fails_alone(stack: SyncStack) -> None:
    made = stack.market.generate_orders(
        3, items_per_order=2, seed=8, max_quantity=3, number_prefix="E-"
    )
    ids = order_ids(made)
    assert stack.run("fetch_orders")["created"] == 3
    lines = {i: [line["line_id"] for line in stack.market.order(i)["raw"]["lines"]] for i in ids}
    cancels = {
        i: stack.market.cancel_lines(i, [{"line_id": lines[i][0], "quantity": 1}])["id"]
        for i in ids
    }
    updates = {
        i: stack.market.update_line(i, line_id=lines[i][1], status="picking")["items"][0]["id"]
        for i in ids
    }
    claims = {
        i: stack.market.create_claim(i, lines[i][1], type="cancel", quantity=1)["id"] for i in ids
    }
    broken_cancel, broken_update = cancels[ids[1]], updates[ids[1]]
    plant_row(stack.market, "event", broken_cancel, {"lines": "<html>oops</html>"})
    plant_row(stack.market, "event", broken_update, {"line_id": lines[ids[1]][1], "status": "x"})
    plant_row(stack.market, "claim", claims[ids[1]], {"quantity": "many"})
    plant_row(stack.market, "claim", claims[ids[2]], {"reason_code": "r" * 10_000})
    broken = {broken_cancel, broken_update, claims[ids[1]], claims[ids[2]]}

    cancelled = stack.run("fetch_and_create_cancel")
    assert (cancelled["applied"], cancelled["failed"], cancelled["acknowledged"]) == (2, 1, 2)
    updated = stack.run("fetch_and_update_order_items")
    assert (updated["applied"], updated["failed"], updated["acknowledged"]) == (2, 1, 2)
    requested = stack.run("fetch_and_create_cancellation_requests")
    assert (requested["applied"], requested["failed"], requested["acknowledged"]) == (1, 2, 1)

    client = stack.market.client()
    pending = {e.id for e in client.iter_order_events()} | {c.id for c in client.iter_claims()}
    assert pending == broken  # the good ones are acknowledged, the bad ones are not
    codes = [r["error_code"] for r in reports(stack)]
    for key in broken:
        assert sum(code.endswith(f"_{key}") for code in codes) == 1, key
    requests = stack.omnitron.client().all_pages("/channel/1/cancellation_requests/")
    assert [r["remote_id"] for r in requests if r["remote_id"] in claims.values()] == [
        claims[ids[0]]
    ]
