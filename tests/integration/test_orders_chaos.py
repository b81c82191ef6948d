"""Orders exactly once, proven under chaos with real processes.

2,000 marketplace orders are ingested while: the worker is killed with SIGKILL three
times (and started again), the broker is restarted once (it keeps nothing on disk, so
queued tasks, results and locks vanish; the worker is not restarted and must reconnect by
itself), Omnitron answers 10% of ``create_orders`` with
503 and loses the answer of another 5% after applying them, and fetches are sent two at
a time. Afterwards every marketplace order must be exactly one Omnitron order with its
order and item mappings, and acknowledged on the marketplace: lost = duplicated = 0.
"""

from __future__ import annotations

import collections
import signal
import time
from typing import Any

import pytest

from tests.support.sync_stack import PREFIX, SyncStack, sync_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ORDERS = 2000
CREATE_FAULTS = (
    "--seed",
    "2026",
    "--fault",
    "pattern=/create_orders/,action=error,status=503,rate=0.10,methods=POST",
    "--fault",
    "pattern=/create_orders/,action=lost_response,rate=0.05,methods=POST",
)


def fetch_twice(stack: SyncStack) -> None:
    """Two fetches at once, without waiting: the chaos decides what becomes of them."""
    for _ in range(2):
        stack.celery.send_task(PREFIX + "fetch_orders")


def acknowledged(stack: SyncStack) -> int:
    counts: dict[str, Any] = stack.market.inspect("orders/counts/")
    return int(counts["acknowledged"])


def test_two_thousand_orders_exactly_once_under_chaos() -> None:
    with sync_stack(
        40, omnitron_args=CREATE_FAULTS, TASK_LOCK_TTL="5", OMNITRON_CONCURRENCY="8"
    ) as stack:
        for task in (
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
            "insert_and_update_products",
        ):
            stack.run(task)
        stack.until_settled("products")
        generated = stack.market.call(
            "POST",
            "/_sandbox/orders/generate/",
            {"count": ORDERS, "items_per_order": [1, 3], "max_quantity": 3, "seed": 5},
        )
        assert generated[0] == 201, generated

        chaos = [
            (2.0, "kill"),
            (5.0, "kill"),
            (8.0, "broker"),
            (11.0, "kill"),
        ]
        started = time.monotonic()
        deadline = started + 420
        progress_at_chaos: list[tuple[str, int]] = []
        broker_restarted = False
        while time.monotonic() < deadline:
            elapsed = time.monotonic() - started
            while chaos and elapsed >= chaos[0][0]:
                _, event = chaos.pop(0)
                progress_at_chaos.append((event, acknowledged(stack)))
                if event == "kill":
                    # A worker that saw the broker restart is still the same live process.
                    assert not broker_restarted or stack.worker.process.poll() is None, (
                        f"the worker died after the broker restart\n{stack.logs()}"
                    )
                    stack.worker.restart(signal.SIGKILL)
                else:
                    # The worker is left alone: it must reconnect to the empty broker by
                    # itself (restarting it here hid a worker that died with the broker).
                    stack.redis.restart()
                    broker_restarted = True
            fetch_twice(stack)
            if not chaos and acknowledged(stack) == ORDERS:
                break
            time.sleep(1.0)
        assert not chaos, "the chaos schedule did not finish"
        assert "Unrecoverable error" not in stack.worker.output(), stack.logs()
        # The chaos struck while orders were still coming in, not after.
        assert all(done < ORDERS for _, done in progress_at_chaos), progress_at_chaos
        print("acknowledged orders when each fault struck:", progress_at_chaos)
        assert acknowledged(stack) == ORDERS, stack.logs()

        # Every marketplace order is exactly one Omnitron order, with its mappings.
        market = stack.market.client()
        expected = {o.number: o for o in market.iter_orders(acknowledged=None)}
        assert len(expected) == ORDERS
        omnitron_orders = stack.omnitron.client().all_pages("/channel/1/orders/", limit=1000)
        numbers = collections.Counter(o["number"] for o in omnitron_orders)
        duplicated = sum(count - 1 for count in numbers.values() if count > 1)
        lost = len(set(expected) - set(numbers))
        assert (lost, duplicated) == (0, 0), f"lost={lost} duplicated={duplicated}"
        assert set(numbers) == set(expected)

        actions = stack.omnitron.inspect("integration_actions/?limit=100000")["results"]
        mapped_orders = {
            a["object_id"]
            for a in actions
            if a["content_type"] in ("order",)
            or (isinstance(a["content_type"], dict) and a["content_type"].get("model") == "order")
        }
        assert len(mapped_orders) == ORDERS
        items = stack.omnitron.client().all_pages("/channel/1/order_items/", limit=5000)
        units = sum(line.quantity for o in expected.values() for line in o.lines)
        assert len(items) == units
        mapped_items = {
            a["object_id"]
            for a in actions
            if (
                a["content_type"]
                if isinstance(a["content_type"], str)
                else a["content_type"].get("model")
            )
            == "orderitem"
        }
        assert {i["pk"] for i in items} == mapped_items
