"""What one order costs by its units: the numbers behind ORDER_MAX_LINE_QUANTITY/_UNITS.

    python bench/bench_order_units.py                     # 1, 100, 500, 2000 units; 0 and 20 ms
    python bench/bench_order_units.py --units 10 5000 --latencies 20

Omnitron stores one order item per unit. For an order of one line of N units this
creates it through the order flow (look-ups, customer, address, create, mappings) and
then applies one marketplace line update to that line (every unit is patched), against
the Omnitron simulator as a real process with the given latency on every request, and
prints the wall time and Omnitron requests of each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._child import child_result, parse_or_run_child  # noqa: E402


def one_run(units: int, latency_ms: int) -> dict[str, Any]:
    import redis

    from channel_app_template.akinon.client import OmnitronClient
    from channel_app_template.akinon.port import OmnitronIntegration
    from channel_app_template.akinon.token_cache import MemoryTokenCache
    from channel_app_template.channel import (
        AddressDto,
        ChannelConfig,
        ChannelCreateOrderDto,
        ChannelIntegration,
        ChannelOrderDto,
        ChannelUpdateOrderItemDto,
        CustomerDto,
        IntegrationContext,
        OrderItemDto,
    )
    from channel_app_template.core.inbound.ledger import Ledger
    from channel_app_template.core.inbound.order_events import OrderEvents
    from channel_app_template.core.inbound.orders import OrderIngestion, OrderOptions
    from tests.support.omnitron import omnitron_simulator
    from tests.support.processes import redis_server

    place = {"country": "TR", "city": "Istanbul", "township": "Kadikoy", "district": "Moda"}
    person = {"email": "b@example.com", "phone_number": "1", "first_name": "B", "last_name": "U"}
    address = AddressDto(**person, **place, line="Street 1")
    dto = ChannelCreateOrderDto(
        order=ChannelOrderDto(
            remote_id="o-1",
            number="BENCH-1",
            customer=CustomerDto(email="b@example.com", first_name="B", last_name="U"),
            shipping_address=address,
            billing_address=address,
            currency="TRY",
            amount=Decimal(units),
            cargo_company="yurtici",
            created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        ),
        order_item=[
            OrderItemDto(
                remote_id="l-1", product="mp-1", price=Decimal(1), price_currency="TRY",
                quantity=units,
            )
        ],
    )  # fmt: skip

    class OneOrder(ChannelIntegration):
        def check_connection(self) -> None:
            return None

        def get_orders(self) -> Any:
            return [dto]

        def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
            return None

        def get_updated_order_items(self) -> Any:
            return [ChannelUpdateOrderItemDto(remote_id="l-1", event_id="e-1", status="500")]

        def acknowledge_order_item_updates(self, event_ids: Sequence[str]) -> None:
            return None

    latency = ("--latency-ms", str(latency_ms)) if latency_ms else ()
    with redis_server() as server, omnitron_simulator(*latency, seed_products=1) as sim:

        def client() -> OmnitronClient:
            return OmnitronClient(
                f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
            )

        sim.client().ok(
            "POST",
            "/channel/1/integration_actions/",
            {"channel_id": 1, "content_type": "product", "object_id": 1, "remote_id": "mp-1"},
        )
        omnitron = OmnitronIntegration(client(), client_factory=client, concurrency=8)

        def requests() -> int:
            return omnitron.requests_made()

        cache = redis.Redis(port=server.port)
        channel = OneOrder(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("b")))
        options = OrderOptions(max_line_quantity=units, max_units=units)
        ingestion = OrderIngestion(omnitron, channel, Ledger(cache, 1, "orders", 5), options)
        before, started = requests(), time.monotonic()
        summary = ingestion.run()
        create_s, create_req = time.monotonic() - started, requests() - before
        assert summary.created == 1, summary.as_dict()
        events = OrderEvents(omnitron, channel, Ledger(cache, 1, "events", 5))
        before, started = requests(), time.monotonic()
        assert events.update_order_items().applied == 1
        update_s, update_req = time.monotonic() - started, requests() - before
        cache.close()
    return {
        "units": units,
        "latency_ms": latency_ms,
        "create_s": round(create_s, 2),
        "create_req": create_req,
        "update_s": round(update_s, 2),
        "update_req": update_req,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[1, 100, 500, 2000])
    parser.add_argument("--latencies", type=int, nargs="+", default=[0, 20])
    args = parse_or_run_child(parser, one_run, 2)
    if args is None:
        return
    print(f"{'units':>6} {'latency':>8} {'create s':>9} {'requests':>9} {'1 update s':>11} "
          f"{'requests':>9}")  # fmt: skip
    for latency in args.latencies:
        for units in args.units:
            r = child_result(__file__, units, latency)
            print(
                f"{r['units']:>6} {r['latency_ms']:>6}ms {r['create_s']:>9} "
                f"{r['create_req']:>9} {r['update_s']:>11} {r['update_req']:>9}"
            )


if __name__ == "__main__":
    main()
