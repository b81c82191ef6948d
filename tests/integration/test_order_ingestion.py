"""Order ingestion against the real Omnitron simulator, with an in-test marketplace.

Pins the exactly-once rules at the engine level (look up first, lost answers, mappings
repaired, acknowledgement only after mapping, bad orders reported and parked) and the
order event flows; the full chaos test with real processes lives in test_orders_chaos.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
import redis

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.channel import (
    AddressDto,
    CancelOrderDto,
    ChannelConfig,
    ChannelCreateOrderDto,
    ChannelIntegration,
    ChannelOrderDto,
    ChannelUpdateOrderItemDto,
    CustomerDto,
    IntegrationContext,
    MalformedEventDto,
    MalformedOrderDto,
    OrderItemDto,
)
from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.inbound.ledger import Ledger
from channel_app_template.core.inbound.order_events import OrderEvents
from channel_app_template.core.inbound.orders import OrderIngestion, OrderOptions
from channel_app_template.errors import AmbiguousWriteError
from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
PRODUCTS = 6


class FakeOrders(ChannelIntegration):
    def __init__(self, config: ChannelConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        self.orders: list[ChannelCreateOrderDto | MalformedOrderDto] = []
        self.acknowledged: list[str] = []
        self.updates: list[ChannelUpdateOrderItemDto | MalformedEventDto] = []
        self.cancels: list[CancelOrderDto | MalformedEventDto] = []
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

    def _pending(self, events: Sequence[Any]) -> list[Any]:
        return [e for e in events if getattr(e, "event_id", None) not in self.acked_events]

    def get_updated_order_items(self) -> Any:
        return self._pending(self.updates)

    def acknowledge_order_item_updates(self, event_ids: Sequence[str]) -> None:
        self.acked_events += event_ids

    def get_cancelled_orders(self) -> Any:
        return self._pending(self.cancels)

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
    extra_lines: int = 0,
    buyer: str | None = None,
) -> ChannelCreateOrderDto:
    """Line 1: ``quantity`` units of ``product``; line 2: one unit of mp-2; then
    ``extra_lines`` lines of ``quantity`` units of mp-3, mp-4..."""
    return ChannelCreateOrderDto(
        order=ChannelOrderDto(
            remote_id=f"o-{n}",
            number=f"MP-{n:05d}",
            customer=CustomerDto(
                email=buyer or f"buyer{n % 3}@example.com", first_name="B", last_name="Uyer"
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
            *(
                OrderItemDto(
                    remote_id=f"o-{n}-l{3 + k}",
                    product=f"mp-{3 + k}",
                    price=Decimal("10.00"),
                    price_currency="TRY",
                    quantity=quantity,
                )
                for k in range(extra_lines)
            ),
        ],
    )


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


def setup(
    sim: OmnitronSim, cache: redis.Redis, budget: Budget | None = None, **options: Any
) -> tuple[OrderIngestion, FakeOrders, Ledger]:
    def client() -> OmnitronClient:
        return OmnitronClient(
            f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        )

    cache.flushdb()
    omnitron = OmnitronIntegration(client(), client_factory=client, concurrency=4)
    channel = FakeOrders(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("fake")))
    ledger = Ledger(cache, 1, "orders", max_attempts=2)
    ingestion = OrderIngestion(
        omnitron, channel, ledger, OrderOptions(**{"page_size": 4, **options}), budget
    )
    return ingestion, channel, ledger


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


# --- Bounds, one report per problem, malformed events, budgets, logs ---------------------


def reports_for(sim: OmnitronSim, code: str) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = sim.client().all_pages("/channel/1/error_reports/")
    return [r for r in reports if r["error_code"] == code]


def test_orders_over_the_unit_limits_fail_alone_reported_once_and_parked(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, ledger = setup(sim, cache, max_line_quantity=5, max_units=8)
    channel.orders = [
        order(1, quantity=6),  # one line over 5 units
        order(2, quantity=5, extra_lines=1),  # 11 units in all, no line over 5
        order(3),
        order(4, quantity=5, extra_lines=0),  # 6 units: fits
    ]
    first = ingestion.run()
    assert (first.created, first.over_limits, first.failed) == (2, 2, 2), first
    assert channel.acknowledged == ["o-3", "o-4"]
    assert sorted(o["number"] for o in omnitron_orders(sim)) == ["MP-00003", "MP-00004"]
    (line_report,) = reports_for(sim, "Channel-GetOrders_MP-00001")
    assert (
        "line o-1-l1 has 6 units, more than ORDER_MAX_LINE_QUANTITY (5)"
        in (line_report["error_desc"])
    )
    (units_report,) = reports_for(sim, "Channel-GetOrders_MP-00002")
    assert "11 units, more than ORDER_MAX_UNITS (8)" in units_report["error_desc"]
    second = ingestion.run()  # max_attempts=2: parked now, and not reported a second time
    assert second.parked == 2 and second.created == 0
    assert len(reports_for(sim, "Channel-GetOrders_MP-00001")) == 1
    assert len(reports_for(sim, "Channel-GetOrders_MP-00002")) == 1
    assert ingestion.run().skipped_parked == 2
    assert set(ledger.parked()) == {"MP-00001", "MP-00002"}
    assert channel.acknowledged == ["o-3", "o-4"]  # never acknowledged, never dropped
    ledger.unpark(["MP-00001"])  # an operator retries it: failing again is news, reported
    assert ingestion.run().failed == 1
    assert len(reports_for(sim, "Channel-GetOrders_MP-00001")) == 2


def test_a_malformed_event_fails_alone_is_reported_once_and_parked(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(7, quantity=3)]
    ingestion.run()
    events = OrderEvents(ingestion.omnitron, channel, Ledger(cache, 1, "events", 2))
    channel.updates = [
        ChannelUpdateOrderItemDto(remote_id="o-7-l2", event_id="e1", tracking_number="TRK1"),
        MalformedEventDto(key="e-bad", message="line_id: missing", raw='{"id": "e-bad"}'),
        ChannelUpdateOrderItemDto(remote_id="o-7-l1", event_id="e3", tracking_number="TRK3"),
    ]
    first = events.update_order_items()
    assert (first.applied, first.malformed, first.acknowledged) == (2, 1, 2), first
    assert channel.acked_events == ["e1", "e3"]
    (report,) = reports_for(sim, "Channel-GetUpdatedOrderItems_e-bad")
    assert "line_id: missing" in report["error_desc"]
    assert events.update_order_items().parked == 1
    assert events.update_order_items().skipped_parked == 1
    assert len(reports_for(sim, "Channel-GetUpdatedOrderItems_e-bad")) == 1
    channel.cancels = [
        MalformedEventDto(key="c-bad", message="lines: not a list"),
        CancelOrderDto(
            order="o-7", cancel_items=["o-7-l1"], quantities={"o-7-l1": 1}, event_id="c1"
        ),
    ]
    cancelled = events.cancel()
    assert (cancelled.applied, cancelled.malformed, cancelled.acknowledged) == (1, 1, 1)
    assert "c-bad" not in channel.acked_events and "c1" in channel.acked_events


class Ticks:
    """A clock that moves one second each time it is read: a budget of N seconds is
    spent after N reads, wherever the flow happens to be."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += 1
            return self.now


def test_a_run_stopped_by_its_budget_acknowledges_only_what_it_created_and_mapped(
    sim: OmnitronSim, cache: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="channel_app_template.core.inbound.orders")
    budget = Budget(total=22, stall=10**6, clock=Ticks())  # spent in the middle of page 2
    ingestion, channel, ledger = setup(sim, cache, budget)
    channel.orders = [order(n) for n in range(10)]
    with pytest.raises(BudgetExceeded):
        ingestion.run()
    created = sorted(o["number"] for o in omnitron_orders(sim))
    # some but not all: how far the budget's clock reads get depends on how the
    # overlapping pages interleave (a loaded machine may stop at the end of page 1)
    assert 0 < len(created) < 10
    assert sorted(channel.acknowledged) == sorted(f"o-{int(n[3:])}" for n in created)
    for number in created:  # acknowledged only with their mappings
        models = {
            a["content_type"]["model"] if isinstance(a["content_type"], dict) else a["content_type"]
            for a in sim.inspect(f"orders/{number}/")["integration_actions"]
        }
        assert {"order", "orderitem"} <= models, number
    assert sim.inspect("batch_requests/?status=commit&limit=1")["count"] == 0
    (stopped,) = [r for r in caplog.records if "stopped" in r.getMessage()]
    # its counts say what happened; "deferred" only when the stop came inside a page
    assert stopped.flow == "fetch_orders"  # type: ignore[attr-defined]
    assert stopped.counts["acknowledged"] == len(created)  # type: ignore[attr-defined]
    rest = OrderIngestion(ingestion.omnitron, channel, ledger, OrderOptions(page_size=4)).run()
    assert rest.created == 10 - len(created) and rest.already_in_omnitron == 0
    for n in range(10):
        assert sim.inspect(f"orders/MP-{n:05d}/")["count_with_number"] == 1
    assert sorted(channel.acknowledged) == sorted(f"o-{n}" for n in range(10))


def test_an_event_run_stopped_by_its_budget_acknowledges_only_what_it_applied(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(n) for n in range(6)]
    ingestion.run()
    channel.updates = [
        ChannelUpdateOrderItemDto(remote_id=f"o-{n}-l2", event_id=f"e{n}", tracking_number=f"T{n}")
        for n in range(6)
    ]
    ledger = Ledger(cache, 1, "events", 3)
    # spent after a few events; how many depends on how the overlapping pages interleave
    # their reads of the clock
    budget = Budget(total=5, stall=10**6, clock=Ticks())
    events = OrderEvents(ingestion.omnitron, channel, ledger, page_size=4, budget=budget)
    with pytest.raises(BudgetExceeded):
        events.update_order_items()

    def tracking(n: int) -> str | None:
        items = sim.inspect(f"orders/MP-{n:05d}/")["orderitem_set"]
        (line2,) = [i for i in items if i["extra_field"]["id"] == f"o-{n}-l2"]
        return line2["tracking_number"]  # type: ignore[no-any-return]

    applied = [f"e{n}" for n in range(6) if tracking(n) == f"T{n}"]
    assert 0 < len(applied) < 6
    assert sorted(channel.acked_events) == applied  # what it applied, and only that
    rest = OrderEvents(ingestion.omnitron, channel, ledger, page_size=4).update_order_items()
    assert rest.applied == 6 - len(applied)
    assert sorted(channel.acked_events) == [f"e{n}" for n in range(6)]


PERSONAL = ("ada@example.com", "buyer1@example.com", "Lovelace", "5550001", "Street 1")
PLACES = ("Atlantis", "Kadikoy", "Moda")
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def test_ingestion_logs_carry_flow_order_and_batch_and_no_personal_data(
    sim: OmnitronSim, cache: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [
        order(1),
        order(2, where=address(city="Atlantis")),
        MalformedOrderDto(number="MP-BROKEN", message="customer.email: too long", raw="{}"),
        order(3, quantity=500),  # over the default ORDER_MAX_LINE_QUANTITY
    ]
    ingestion.run()
    ours = [r for r in caplog.records if getattr(r, "flow", None) == "fetch_orders"]
    by_order = {getattr(r, "order", None): r for r in ours}
    assert {"MP-00001", "MP-00002", "MP-BROKEN", "MP-00003"} <= set(by_order)
    assert by_order["MP-00003"].reason == "over_limits"  # type: ignore[attr-defined]
    assert by_order["MP-BROKEN"].reason == "malformed"  # type: ignore[attr-defined]
    assert any(getattr(r, "batch", None) for r in ours)  # the mapping batch is named
    assert any("counts" in vars(r) for r in ours)  # and the run's counts
    # Ours only: urllib3's own DEBUG lines carry whole URLs with their query strings (a
    # customer look-up's e-mail); the worker logs at INFO, where urllib3 says nothing.
    for record in [r for r in caplog.records if r.name.startswith("channel_app_template")]:
        extras = {k: v for k, v in vars(record).items() if k not in STANDARD}
        text = record.getMessage() + repr(extras) + (record.exc_text or "")
        for value in (*PERSONAL, *PLACES):
            assert value not in text, (value, record.name, record.getMessage())


# --- Pages in flight together (ORDER_IN_FLIGHT) ----------------------------------------------


def test_orders_of_one_new_buyer_on_pages_in_flight_together_create_one_customer(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache, page_size=2, in_flight=6)
    channel.orders = [order(n, buyer="same@example.com") for n in range(12)]
    summary = ingestion.run()
    assert summary.created == 12 and summary.acknowledged == 12, summary
    customers = sim.client().all_pages("/channel/1/customers/")
    assert [c["email"] for c in customers] == ["same@example.com"]
    assert {o["customer"] for o in omnitron_orders(sim)} == {customers[0]["pk"]}


def test_an_order_listed_twice_while_in_flight_is_created_and_acknowledged_once(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache, page_size=3, in_flight=6)
    channel.orders = [order(1), order(1), order(2), order(1), order(3)]
    summary = ingestion.run()
    assert summary.created == 3 and summary.repeated == 2, summary
    for n in (1, 2, 3):
        assert sim.inspect(f"orders/MP-{n:05d}/")["count_with_number"] == 1
    assert sorted(channel.acknowledged) == ["o-1", "o-2", "o-3"]


class Crash(BaseException):
    """A worker killed mid-run: nothing after it runs, no handler sees it as an error."""


class CrashingOrders(FakeOrders):
    """Dies at its first acknowledgement (pages behind it created, some not mapped yet)."""

    crashed = False

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        self.crashed = True
        raise Crash


def test_a_crash_between_create_and_acknowledgement_with_pages_in_flight_repeats_nothing(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, _, ledger = setup(sim, cache, page_size=3, in_flight=9)
    crashing = CrashingOrders(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("c")))
    crashing.orders = [order(n) for n in range(12)]
    ingestion.channel = crashing
    with pytest.raises(Crash):
        ingestion.run()
    assert crashing.crashed and crashing.acknowledged == []
    created = len(omnitron_orders(sim))
    assert created >= 3  # at least the first page was created before the crash
    channel = FakeOrders(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("f")))
    channel.orders = crashing.orders
    after = OrderIngestion(ingestion.omnitron, channel, ledger, OrderOptions(page_size=3)).run()
    assert after.created == 12 - created and after.already_in_omnitron == created, after
    assert sorted(channel.acknowledged) == sorted(f"o-{n}" for n in range(12))
    for n in range(12):
        detail = sim.inspect(f"orders/MP-{n:05d}/")
        assert detail["count_with_number"] == 1
        models = {
            a["content_type"]["model"] if isinstance(a["content_type"], dict) else a["content_type"]
            for a in detail["integration_actions"]
        }
        assert {"order", "orderitem"} <= models, n
    assert sim.inspect("batch_requests/?status=commit&limit=1")["count"] == 0


def test_order_locks_are_taken_for_many_at_once_and_a_lapsed_one_is_not_held(
    cache: redis.Redis,
) -> None:
    cache.flushdb()
    ledger = Ledger(cache, 1, "orders", max_attempts=2)
    mine = ledger.hold(["A", "B", "A"])
    assert sorted(mine) == ["A", "B"]
    assert ledger.hold(["A", "B", "C"]).keys() == {"C"}  # another worker's turn: only C
    assert ledger.still_held("A", mine["A"])
    cache.delete("channel_app_template:orders:1:lock:B")  # B's TTL ran out
    assert not ledger.still_held("B", mine["B"])
    ledger.let_go("A", mine["A"])
    assert ledger.hold(["A"]).keys() == {"A"}


def test_events_of_one_line_or_order_apply_in_page_order_while_others_run_concurrently(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache)
    channel.orders = [order(n, quantity=3) for n in range(4)]
    ingestion.run()
    events = OrderEvents(ingestion.omnitron, channel, Ledger(cache, 1, "events", 3))
    channel.updates = [
        ChannelUpdateOrderItemDto(
            remote_id=f"o-{n}-l2", event_id=f"e{n}-{k}", tracking_number=f"T{k}"
        )
        for k in range(3)
        for n in range(4)
    ]  # three updates of each line, interleaved with the other lines'
    assert events.update_order_items().applied == 12
    channel.cancels = [
        CancelOrderDto(
            order=f"o-{n}",
            cancel_items=[f"o-{n}-l1"],
            quantities={f"o-{n}-l1": k},
            event_id=f"c{n}-{k}",
        )
        for k in (1, 2)
        for n in range(4)
    ]  # one unit, then two in total: the second counts what the first cancelled
    summary = events.cancel()
    assert summary.applied == 8 and summary.acknowledged == 8, summary
    for n in range(4):
        items = sim.inspect(f"orders/MP-{n:05d}/")["orderitem_set"]
        line2 = [i for i in items if i["extra_field"]["id"] == f"o-{n}-l2"]
        assert [i["tracking_number"] for i in line2] == ["T2"]  # the last one won
        line1 = [i for i in items if i["extra_field"]["id"] == f"o-{n}-l1"]
        assert sorted(i["status"] for i in line1) == ["100", "100", "400"]


def test_pages_are_cut_to_the_orders_allowed_in_flight(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    ingestion, channel, _ = setup(sim, cache, page_size=4, in_flight=1)
    channel.orders = [order(n) for n in range(3)]
    summary = ingestion.run()
    assert summary.created == 3 and summary.acknowledged == 3, summary
    assert len(omnitron_orders(sim)) == 3
