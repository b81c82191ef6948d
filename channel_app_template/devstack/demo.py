"""The demo's little driver: run setup once, then make marketplace orders for Omnitron.

Beat's interval entries first fire one interval after beat starts, so the setup flows
(category tree, attributes) are sent once through the broker right away, in order, as
Flower would, followed by one product run; ``fetch_orders`` is sent right after the demo
orders are placed. Orders are generated only once products are live on the marketplace *and*
mapped in Omnitron: an order naming a product Omnitron does not know yet would be parked.

Orders come from the reference marketplace simulator, or from the channel's own test
marketplace when its ``conformance_marketplace()`` can make some (``prepare_orders``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from channel_app_template.core.run.flows import FLOWS
from channel_app_template.devstack.stack import SETUP_TASKS, DevOptions, Simulators
from channel_app_template.devstack.supervisor import Supervisor

SETUP_TIMEOUT = 180.0
PRODUCTS_TIMEOUT = 300.0
ORDERS_TIMEOUT = 180.0


class DemoDriver:
    """Runs in a helper thread of the supervisor; every wait ends when the stack stops."""

    def __init__(
        self,
        supervisor: Supervisor,
        broker_url: str,
        sims: Simulators,
        options: DevOptions,
        market: Any = None,
    ) -> None:
        self.supervisor = supervisor
        self.broker_url = broker_url
        self.sims = sims
        self.options = options
        self.market = market  # the channel's TestMarketplace, when it brought one
        self.http = httpx.Client(timeout=10.0)

    def say(self, text: str) -> None:
        self.supervisor.output.line("demo", text)

    def run(self) -> None:
        from celery import Celery

        celery = Celery(broker=self.broker_url, backend=self.broker_url)
        celery.conf.update(
            task_serializer="json", result_serializer="json", accept_content=["json"]
        )
        try:
            self.run_setup(celery)
            # Beat's first catalog run would come one interval later: start one now.
            celery.send_task(FLOWS.task_name("insert_and_update_products"))
            if self.options.demo_orders <= 0:
                return
            if self.sims.market_port is not None:
                self.wait_for_products()
                before = self.omnitron_orders()
                self.generate_orders()
                celery.send_task(FLOWS.task_name("fetch_orders"))
                self.watch_orders(before + self.options.demo_orders)
            elif getattr(self.market, "prepare_orders", None) is not None:
                self.wait_for_mapped_products()
                before = self.omnitron_orders()
                self.market.prepare_orders()
                self.say("the channel's test marketplace made orders; fetch_orders brings them")
                celery.send_task(FLOWS.task_name("fetch_orders"))
                self.watch_orders(before + 1)
            else:
                self.say(
                    "no demo orders: they come from the reference marketplace, or from a "
                    "conformance_marketplace() whose TestMarketplace has prepare_orders"
                )
        finally:
            celery.close()
            self.http.close()

    # Setup ----------------------------------------------------------------------------

    def run_setup(self, celery: Any) -> None:
        """The setup flows, one after the other (attributes need the category tree)."""
        for name in SETUP_TASKS:
            self.say(f"sending {name}")
            result = celery.send_task(FLOWS.task_name(name))
            deadline = time.monotonic() + SETUP_TIMEOUT
            while not result.ready():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not finish in {SETUP_TIMEOUT:.0f}s")
                self.supervisor.sleep(0.5)
            self.say(f"{name}: {result.state}")

    # Products, then orders ------------------------------------------------------------

    def _get(self, url: str) -> Any:
        response = self.http.get(url)
        response.raise_for_status()
        return response.json()

    def live_products(self) -> int:
        return int(self._get(f"{self.sims.market_url}/_sandbox/counts/")["products"])

    def mapped_products(self) -> int:
        rows = self._get(
            f"{self.sims.omnitron_url}_sandbox/integration_actions/?model=product&limit=100000"
        )["results"]
        return sum(1 for row in rows if row.get("remote_id"))

    def wait_for_products(self) -> int:
        """Until every live marketplace product is mapped in Omnitron (and there are some)."""
        self.say("waiting for the catalog to reach the marketplace")
        deadline = time.monotonic() + PRODUCTS_TIMEOUT
        live = 0
        while time.monotonic() < deadline:
            try:
                live, mapped = self.live_products(), self.mapped_products()
            except httpx.HTTPError:
                live, mapped = 0, 0
            if live and mapped >= live:
                self.say(f"{live} products live on the marketplace and mapped in Omnitron")
                return live
            self.supervisor.sleep(2.0)
        raise TimeoutError(f"products not synced within {PRODUCTS_TIMEOUT:.0f}s (live: {live})")

    def wait_for_mapped_products(self) -> int:
        """Until Omnitron maps some product to the channel's marketplace."""
        self.say("waiting for the catalog to reach the marketplace")
        deadline = time.monotonic() + PRODUCTS_TIMEOUT
        while time.monotonic() < deadline:
            try:
                mapped = self.mapped_products()
            except httpx.HTTPError:
                mapped = 0
            if mapped:
                self.say(f"{mapped} products mapped in Omnitron")
                return mapped
            self.supervisor.sleep(2.0)
        raise TimeoutError(f"no product mapped within {PRODUCTS_TIMEOUT:.0f}s")

    def omnitron_orders(self) -> int:
        return int(self._get(f"{self.sims.omnitron_url}_sandbox/counts/")["orders"])

    def generate_orders(self) -> None:
        count = self.options.demo_orders
        response = self.http.post(
            f"{self.sims.market_url}/_sandbox/orders/generate/",
            json={"count": count, "items_per_order": [1, 3], "max_quantity": 2},
        )
        response.raise_for_status()
        self.say(f"{count} orders placed on the marketplace; fetch_orders brings them over")

    def watch_orders(self, expected: int) -> None:
        deadline = time.monotonic() + ORDERS_TIMEOUT
        seen = 0
        while time.monotonic() < deadline:
            self.supervisor.sleep(2.0)
            now = self.omnitron_orders()
            if now != seen:
                seen = now
                self.say(f"orders in Omnitron: {now} of {expected}")
            if now >= expected:
                self.say("demo orders are all in Omnitron; the stack keeps syncing (Ctrl-C stops)")
                return
        self.say(f"only {seen} of {expected} orders reached Omnitron; see the worker's output")
