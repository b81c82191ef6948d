"""Order ingestion against the real Omnitron simulator, with an in-test marketplace.

Pins the exactly-once rules at the engine level (look up first, lost answers, mappings
repaired, acknowledgement only after mapping, bad orders reported and parked) and the
order event flows; the full chaos test with real processes lives in test_orders_chaos.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
import redis

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.core.commands import ChannelConfig, ChannelIntegration, IntegrationContext
from channel_app_template.core.dto import (
    AddressDto,
    CancelOrderDto,
    ChannelCreateOrderDto,
    ChannelOrderDto,
    ChannelUpdateOrderItemDto,
    CustomerDto,
    MalformedOrderDto,
    OrderItemDto,
)
from channel_app_template.core.errors import AmbiguousWriteError
from channel_app_template.core.ledger import Ledger
from channel_app_template.core.order_events import OrderEvents
from channel_app_template.core.orders import OrderIngestion, OrderOptions
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import redis_server

pytestmark = pytest.mark.integration
PRODUCTS = 6


class FakeOrders(ChannelIntegration):
    def __init__(self, config: ChannelConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        self.orders: list[ChannelCreateOrderDto | MalformedOrderDto] = []
        self.acknowledged: list[str] = []
        self.updates: list[ChannelUpdateOrderItemDto] = []
        self.cancels: list[CancelOrderDto] = []
        self.acked_events: list[str] = []

    def check_connection(self) -> None:
        return None

    def get_orders(self) -> Any:
        done = set(self.acknowledged)
        return [
            o
            for o in self.orders
            if isinstance(o, MalformedOrderDto) or o.order.remote_id not in done
        ]

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        self.acknowledged += remote_ids

    def get_updated_order_items(self) -> Any:
        return [u for u in self.updates if u.event_id not in self.acked_events]

    def acknowledge_order_item_updates(self, event_ids: Sequence[str]) -> None:
        self.acked_events += event_ids

    def get_cancelled_orders(self) -> Any:
        return [c for c in self.cancels if c.event_id not in self.acked_events]

    def acknowledge_cancelled_orders(self, event_ids: Sequence[str]) -> None:
        self.acked_events += event_ids


def address(**changes: str) -> AddressDto:
    values = {
        "email": "ada@example.com",
        "phone_number": "5550001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "TR",
        "city": "Istanbul",
        "township": "Kadikoy",
        "district": "Moda",
        "line": "Street 1",
        **changes,
    }
    return AddressDto(**values)


def order(
    n: int,
    *,
    product: str = "mp-1",
    cargo: str = "yurtici",
    quantity: int = 2,
    where: AddressDto | None = None,
) -> ChannelCreateOrderDto:
    return ChannelCreateOrderDto(
        order=ChannelOrderDto(
            remote_id=f"o-{n}",
            number=f"MP-{n:05d}",
            customer=CustomerDto(
                email=f"buyer{n % 3}@example.com", first_name="B", last_name="Uyer"
            ),
            shipping_address=where or address(),
            billing_address=where or address(),
            currency="TRY",
            amount=Decimal("30.00"),
            cargo_company=cargo,
            created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ),
        order_item=[
            OrderItemDto(
                remote_id=f"o-{n}-l1",
                product=product,
                price=Decimal("10.00"),
                price_currency="TRY",
                quantity=quantity,
            ),
            OrderItemDto(
                remote_id=f"o-{n}-l2", product="mp-2", price=Decimal("10.00"), price_currency="TRY"
            ),
        ],
    )


@pytest.fixture(scope="module")
def cache() -> Iterator[redis.Redis]:
    with redis_server() as server:
        client = redis.Redis(port=server.port)
        yield client
        client.close()


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=PRODUCTS) as running:
        client = running.client()
        for pk in range(1, PRODUCTS + 1):  # products already on the marketplace
            client.ok(
                "POST",
                "/channel/1/integration_actions/",
                {
                    "channel_id": 1,
                    "content_type": "product",
                    "object_id": pk,
                    "remote_id": f"mp-{pk}",
                    "version_date": "2024-01-01T00:00:00Z",
                },
            )
        yield running


def setup(sim: OmnitronSim, cache: redis.Redis) -> tuple[OrderIngestion, FakeOrders, Ledger]:
    def client() -> OmnitronClient:
        return OmnitronClient(
            f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        )

    cache.flushdb()
    omnitron = OmnitronIntegration(client(), client_factory=client, concurrency=4)
    channel = FakeOrders(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("fake")))
    ledger = Ledger(cache, 1, "orders", max_attempts=2)
    return OrderIngestion(omnitron, channel, ledger, OrderOptions(page_size=4)), channel, ledger


def omnitron_orders(sim: OmnitronSim) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.client().all_pages("/channel/1/orders/")
    return rows


def test_orders_are_created_once_mapped_then_acknowledged(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(n) for n in range(10)]
    summary = ingestion.run()
    assert summary.created == 10 and summary.acknowledged == 10, summary
    orders = omnitron_orders(sim)
    assert sorted(o["number"] for o in orders) == [f"MP-{n:05d}" for n in range(10)]
    detail = sim.inspect("orders/MP-00003/")
    assert detail["count_with_number"] == 1
    assert len(detail["orderitem_set"]) == 3  # two units of line 1, one of line 2
    mapped = {
        (
            a["content_type"]["model"]
            if isinstance(a["content_type"], dict)
            else a["content_type"],
            a["remote_id"],
        )
        for a in detail["integration_actions"]
    }
    assert ("order", "o-3") in mapped and ("orderitem", "o-3-l1") in mapped
    assert sorted(channel.acknowledged) == sorted(f"o-{n}" for n in range(10))
    customers = sim.client().all_pages("/channel/1/customers/")
    assert len(customers) == 3  # get-or-create by email
    again = ingestion.run()
    assert again.received == 0 and len(omnitron_orders(sim)) == 10


def test_unacknowledged_orders_are_not_created_twice(sim: OmnitronSim, cache: redis.Redis) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(n) for n in range(5)]
    ingestion.run()
    channel.acknowledged.clear()  # as if every acknowledgement was lost
    summary = ingestion.run()
    assert summary.created == 0 and summary.already_in_omnitron == 5
    assert len(omnitron_orders(sim)) == 5
    assert len(channel.acknowledged) == 5


def test_a_lost_create_answer_is_looked_up_not_repeated(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache)
    sim.call(
        "POST",
        "/_sandbox/faults/rules/",
        {"pattern": "/create_orders/", "action": "lost_response", "times": 3, "methods": ["POST"]},
    )
    channel.orders = [order(n) for n in range(6)]
    summary = ingestion.run()
    assert summary.created == 6, summary
    assert len(omnitron_orders(sim)) == 6
    for n in range(6):
        assert sim.inspect(f"orders/MP-{n:05d}/")["count_with_number"] == 1


def test_missing_mappings_are_repaired(sim: OmnitronSim, cache: redis.Redis) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(1)]
    sim.call(
        "POST",
        "/_sandbox/faults/rules/",
        {
            "pattern": "/batch_requests/",
            "action": "error",
            "status": 500,
            "times": 50,
            "methods": ["POST"],
        },
    )
    with pytest.raises(AmbiguousWriteError):  # the mapping batch could not be opened
        ingestion.run()
    assert channel.acknowledged == []  # never acknowledged without its mapping
    sim.call("DELETE", "/_sandbox/faults/")
    summary = ingestion.run()
    assert summary.already_in_omnitron == 1 and summary.mappings_recorded == 1
    assert channel.acknowledged == ["o-1"]
    assert len(omnitron_orders(sim)) == 1


def test_bad_orders_are_reported_retried_and_parked(sim: OmnitronSim, cache: redis.Redis) -> None:
    ingestion, channel, ledger = setup(sim, cache)
    channel.orders = [
        order(1, product="mp-999"),
        order(2, cargo="no-such-cargo"),
        order(3, where=address(city="Atlantis")),
        MalformedOrderDto(number="MP-BROKEN", message="missing customer"),
        order(4),
    ]
    first = ingestion.run()
    assert first.created == 1 and first.failed == 4 and first.malformed == 1
    assert channel.acknowledged == ["o-4"]
    reports = sim.client().all_pages("/channel/1/error_reports/")
    text = " ".join(r["error_desc"] for r in reports)
    for expected in ("mp-999", "no-such-cargo", "Atlantis", "missing customer"):
        assert expected in text
    second = ingestion.run()  # max_attempts=2: the second failure parks them
    assert second.parked == 4
    third = ingestion.run()
    assert third.skipped_parked == 4 and third.failed == 0
    assert set(ledger.parked()) == {"MP-00001", "MP-00002", "MP-00003", "MP-BROKEN"}
    ledger.unpark(["MP-00002"])
    channel.orders[1] = order(2)  # the merchant fixed the cargo code
    fourth = ingestion.run()
    assert fourth.created == 1 and "o-2" in channel.acknowledged


def test_item_updates_and_quantity_aware_cancels(sim: OmnitronSim, cache: redis.Redis) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(7, quantity=3)]
    ingestion.run()
    events = OrderEvents(ingestion.omnitron, channel, Ledger(cache, 1, "events", 3))
    channel.updates = [
        ChannelUpdateOrderItemDto(
            remote_id="o-7-l2", event_id="e1", tracking_number="TRK1", status="500"
        )
    ]
    assert events.update_order_items().applied == 1
    items = sim.inspect("orders/MP-00007/")["orderitem_set"]
    line2 = [i for i in items if i["extra_field"]["id"] == "o-7-l2"]
    assert line2[0]["tracking_number"] == "TRK1"
    channel.cancels = [
        CancelOrderDto(
            order="o-7", cancel_items=["o-7-l1"], quantities={"o-7-l1": 2}, event_id="c1"
        )
    ]
    assert events.cancel().applied == 1
    channel.acked_events.remove("c1")  # the same event arrives again
    repeat = events.cancel()
    assert repeat.unchanged == 1 and repeat.applied == 0
    items = sim.inspect("orders/MP-00007/")["orderitem_set"]
    line1 = [i for i in items if i["extra_field"]["id"] == "o-7-l1"]
    assert sorted(i["status"] for i in line1) == ["100", "100", "400"]
