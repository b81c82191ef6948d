"""The order commands through the runner's order jobs, and ``order_ingestion``.

Orders: ``get_orders`` twice without an acknowledgement returns the same orders, none
twice; ingesting twice creates no duplicate order in Omnitron; acknowledging twice is
harmless and acknowledged orders do not come back. Events: each getter twice returns the
same events, and its job runs twice. Then Omnitron moves an order item and approves the
cancellation requests, so the outbound order updates and decisions are sent.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable

from channel_app_template.core.engine.resources import CANCELLATION_DECISIONS, ORDERS
from channel_app_template.core.run.runner import JOBS, ingest_orders
from channel_app_template.kit.conformance._catalog import ResourceRun, open_batches
from channel_app_template.kit.conformance._harness import Live, quiet
from channel_app_template.kit.conformance._returns import (
    EVENT_GETTERS,
    IDLE_GETTER,
    event_key,
    order_keys,
    what,
)

__all__ = ["EventChecks", "IngestionCheck", "OrderChecks"]

EVENT_FLOWS = {
    "get_updated_order_items": "fetch_and_update_order_items",
    "get_cancelled_orders": "fetch_and_create_cancel",
    "get_cancellation_requests": "fetch_and_create_cancellation_requests",
}
"""The flow (task) that reads each kind of event into Omnitron."""


class IngestionCheck:
    """``get_orders``, ``acknowledge_orders`` and ``order_ingestion``."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def run(self) -> None:
        live, report = self.live, self.live.report
        channel = live.runtime.channel
        numbers: dict[str, str] = {}
        try:
            first = order_keys(channel.get_orders(), numbers)
            second = order_keys(channel.get_orders())
        except Exception:
            return  # recorded by the recorder
        if not first and not second:
            report.idle("order_ingestion", f"{IDLE_GETTER} (get_orders returned no order)")
            return
        if sorted(first) != sorted(second):
            report.fail(
                "get_orders",
                f"two calls without an acknowledgement returned different orders: "
                f"{sorted(set(first) ^ set(second))[:5]}",
            )
        if doubled := sorted(k for k, n in collections.Counter(first).items() if n > 1):
            report.fail("get_orders", f"the same order more than once in one call: {doubled[:5]}")
        for _ in range(2):
            try:
                ingest_orders(live.runtime, quiet)
            except Exception as error:
                report.fail(
                    live.culprit("order_ingestion"), f"order ingestion stopped: {what(error)}"
                )
                return
        held = collections.Counter(o["number"] for o in live.sim.all_pages("/channel/1/orders/"))
        report.notes.append(
            f"orders: get_orders returned {len(first)}, Omnitron holds {sum(held.values())} "
            "after two ingestion runs"
        )
        if doubled := sorted(n for n, count in held.items() if count > 1):
            report.fail(
                "order_ingestion",
                "get_orders/acknowledge_orders: ingesting twice created duplicate orders "
                f"{doubled[:5]}",
            )
        report.ran("order_ingestion")
        if "acknowledge_orders" in live.supported:
            created = sorted(
                {key for key in first if not key.startswith("malformed:")}
                & {key for key, number in numbers.items() if number in held}
            )
            self._acknowledge(created)

    def _acknowledge(self, created: list[str]) -> None:
        channel = self.live.runtime.channel
        try:
            channel.acknowledge_orders(created)
            channel.acknowledge_orders(created)
            after = order_keys(channel.get_orders())
        except Exception:
            return  # recorded by the recorder
        if back := sorted(set(created) & set(after)):
            self.live.report.fail(
                "acknowledge_orders", f"acknowledged orders came back from get_orders: {back[:5]}"
            )


class EventChecks:
    """The event getters, their acknowledgements and the jobs that read them."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def run(self) -> None:
        live, channel = self.live, self.live.runtime.channel
        for command in EVENT_GETTERS:
            if command not in live.supported:
                continue
            getter: Callable[[], list[object]] = getattr(channel, command)
            try:
                first = [event_key(command, e) for e in getter()]
                second = [event_key(command, e) for e in getter()]
            except Exception:  # noqa: S112  (the recorder recorded it, naming the command)
                continue
            if sorted(first) != sorted(second):
                live.report.fail(
                    command,
                    "two calls without an acknowledgement returned different events "
                    f"({len(first)} then {len(second)})",
                )
        for command, flow in EVENT_FLOWS.items():
            if command in live.supported:
                for _ in range(2):
                    try:
                        JOBS[flow].run(live.runtime, quiet)
                    except Exception as error:
                        live.report.fail(
                            live.culprit(command), f"the {command} flow stopped: {what(error)}"
                        )
                        break


class OrderChecks:
    def __init__(self, live: Live) -> None:
        self.live = live

    def run(self) -> None:
        live, market = self.live, self.live.market
        if market is not None and market.prepare_orders is not None:
            try:
                market.prepare_orders()
            except Exception as error:
                live.report.fail(
                    "get_orders", f"prepare_orders() of the test marketplace failed: {what(error)}"
                )
        if "get_orders" in live.supported:
            IngestionCheck(live).run()
        if market is not None and market.prepare_events is not None:
            try:
                market.prepare_events()
            except Exception as error:
                live.report.fail(
                    "order_ingestion",
                    f"prepare_events() of the test marketplace failed: {what(error)}",
                )
        EventChecks(live).run()
        resources = ResourceRun(live)
        if "send_updated_orders" in live.supported:
            self._change_an_order()
            resources.send(ORDERS, "updates")
        if "update_cancellation_request" in live.supported:
            self._decide_requests()
            resources.send(CANCELLATION_DECISIONS, "updates")
        if stuck := open_batches(live.sim):
            live.report.fail("order_ingestion", f"batches left open by the order flows: {stuck}")

    def _change_an_order(self) -> None:
        """Omnitron moves one order item along, so the order is pending for the channel."""
        sim = self.live.sim
        with contextlib.suppress(Exception):
            for order in sim.all_pages("/channel/1/orders/")[:1]:
                items = sim.inspect(f"orders/{order['number']}/")["orderitem_set"]
                sim.api("PATCH", f"/order_items/{items[0]['pk']}/", {"status": "450"})

    def _decide_requests(self) -> None:
        """Omnitron approves the cancellation requests the channel raised."""
        sim = self.live.sim
        with contextlib.suppress(Exception):
            for request in sim.all_pages("/channel/1/cancellation_requests/"):
                sim.api(
                    "PATCH",
                    f"/channel/1/cancellation_requests/{request['id']}/",
                    {"status": "approved"},
                )
