"""Orders on a real marketplace process: the typed client, faults on order routes, and the
reference integration's order commands end to end (DTO conversion incl. malformed orders,
acknowledgements, quantity-aware cancellations, item updates, claims and decisions)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from channel_app_template.akinon.models import Order, OrderItem
from channel_app_template.channel import (
    ChannelCancellationRequestDto,
    ChannelCreateOrderDto,
    IntegrationContext,
    MalformedOrderDto,
    OrderUpdateItem,
    ResponseStatus,
)
from channel_app_template.channel.reference.integration import (
    ReferenceConfig,
    ReferenceIntegration,
)
from channel_app_template.channel.reference.marketplace_client import (
    LineStatusUpdate,
    MarketOrder,
    OrderStatusUpdate,
    UnreadableOrder,
)
from tests.support.marketplace import MarketplaceSim, marketplace_server

pytestmark = pytest.mark.integration

PRODUCTS = 20


@pytest.fixture(scope="module")
def shared() -> Iterator[MarketplaceSim]:
    with marketplace_server(seed=4, batch_delay=0) as server:
        yield server


@pytest.fixture
def market(shared: MarketplaceSim) -> MarketplaceSim:
    shared.reset()
    shared.settings(batch_delay_seconds=0, rate_limit=0)
    shared.seed_products(PRODUCTS)
    return shared


def integration(market: MarketplaceSim, **conf: object) -> ReferenceIntegration:
    config = ReferenceConfig.model_validate({"api_url": market.url, **conf})
    context = IntegrationContext(channel_id=1, catalog_id=1, logger=logging.getLogger("test"))
    integ = ReferenceIntegration(config, context)
    integ.client.close()
    integ.client = market.client()  # quick retries for tests
    return integ


def a_three_unit_order(market: MarketplaceSim, lines: int = 1) -> MarketOrder:
    """A fresh order whose first line has three units."""
    with market.client() as client:
        for seed in range(50):
            made = market.generate_orders(1, seed=seed, items_per_order=lines, max_quantity=3)
            order = client.get_order(made["first_order_id"])
            assert isinstance(order, MarketOrder)
            if order.lines[0].quantity == 3:
                client.acknowledge_orders([order.id])
                return order
    raise AssertionError("no seed gave three units")


# ------------------------------------------------------------------------ new orders
def test_get_orders_pages_everything_and_reports_bad_orders(market: MarketplaceSim) -> None:
    bad = {
        "unknown_product": 0.05,
        "unknown_cargo": 0.05,
        "unresolvable_address": 0.05,
        "malformed": 0.05,
    }
    made = market.generate_orders(300, seed=8, bad=bad)
    integ = integration(market, order_page_size=40)
    got: list[ChannelCreateOrderDto | MalformedOrderDto] = []
    for dto in integ.get_orders():
        got.append(dto)
        if isinstance(dto, ChannelCreateOrderDto):
            integ.acknowledge_orders([dto.order.remote_id])  # acks mid-iteration skip nothing
    assert len(got) == 300
    good = [d for d in got if isinstance(d, ChannelCreateOrderDto)]
    malformed = [d for d in got if isinstance(d, MalformedOrderDto)]
    assert len(malformed) == 15
    served_numbers = set(made["bad"]["malformed"])
    for dto in malformed:
        assert dto.number in served_numbers or dto.number.startswith("MO")  # garbage: no number
        assert dto.message and dto.raw
    numbers = [d.order.number for d in good]
    assert numbers == sorted(numbers)  # oldest first
    by_number = {d.order.number: d for d in good}
    live = {f"MP{i:08d}" for i in range(1, PRODUCTS + 1)}
    for number in made["bad"]["unknown_product"]:
        assert by_number[number].order_item[0].product not in live
    for number in made["bad"]["unknown_cargo"]:
        assert by_number[number].order.cargo_company == "surat"
    for number in made["bad"]["unresolvable_address"]:
        assert by_number[number].order.shipping_address.city == "Atlantis"
    sample = good[0]
    assert sample.order.cargo_company in ("yurtici", "aras", "mng")
    assert sample.order.shipping_address.country == "TR"
    assert all(item.product in live for item in sample.order_item)
    assert sum(i.price * i.quantity for i in sample.order_item) + sample.order.shipping_amount == (
        sample.order.amount
    )
    counts = market.order_counts()
    assert (counts["acknowledged"], counts["unacknowledged"]) == (285, 15)
    assert [type(d).__name__ for d in integ.get_orders()] == ["MalformedOrderDto"] * 15
    integ.acknowledge_orders(["MO00000001", "MO09999999"])  # repeat + unknown: no exception
    every = [f"MKT-{n:08d}" for n in range(1, 301)]  # looked up in several queries
    assert len(list(integ.client.iter_orders(numbers=every, acknowledged=None))) == 300
    integ.close()


def test_client_order_calls(market: MarketplaceSim) -> None:
    market.generate_orders(5, seed=1, items_per_order=2, bad={"malformed": 0.2})
    with market.client() as client:
        orders = list(client.iter_orders(page_size=2))
        assert len(orders) == 5
        assert sum(isinstance(o, UnreadableOrder) for o in orders) == 1
        first = orders[0]
        assert isinstance(first, MarketOrder)
        assert client.get_order("MO09999999") is None
        found = list(client.iter_orders(numbers=[first.number]))
        assert [o.id for o in found] == [first.id]
        ack = client.acknowledge_orders([first.id, first.id, "MO09999999"])
        assert [r.ok for r in ack.items] == [True, True, False]
        assert ack.items[2].reasons[0].code == "unknown_order"
        assert len(list(client.iter_orders())) == 4
        assert len(list(client.iter_orders(acknowledged=None))) == 5
        line = first.lines[0].line_id
        result = client.update_order_statuses(
            [
                OrderStatusUpdate(
                    order_id=first.id,
                    status="shipped",
                    tracking_number="TRK-9",
                    invoice_number="INV-9",
                    cargo_code="aras",
                ),
                OrderStatusUpdate(
                    order_id=first.id, lines=[LineStatusUpdate(line_id=line, status="picking")]
                ),
            ]
        )
        assert [r.ok for r in result.items] == [True, True]
        assert "already shipped" in result.items[1].notes[0]
        again = client.get_order(first.id)
        assert isinstance(again, MarketOrder)
        assert again.status == "shipped" and again.tracking_number == "TRK-9"
        shipped = list(client.iter_orders(status="shipped", acknowledged=None))
        assert [o.id for o in shipped] == [first.id]


def test_faults_on_order_routes_are_retried(market: MarketplaceSim) -> None:
    market.generate_orders(30, seed=3)
    market.fault(pattern="/api/v1/orders$", action="error", status=503, times=2)
    market.fault(pattern="/orders/acknowledge$", action="lost_response", times=1)
    market.fault(pattern="/orders/status$", action="drop", times=1)
    market.fault(pattern="/order-events$", action="error", status=500, times=1)
    with market.client() as client:
        orders = [o for o in client.iter_orders(page_size=10) if isinstance(o, MarketOrder)]
        assert len(orders) == 30
        ack = client.acknowledge_orders([o.id for o in orders])  # applied, answer lost, retried
        assert ack.accepted_count == 30
        update = OrderStatusUpdate(order_id=orders[0].id, status="picking")
        assert client.update_order_statuses([update]).items[0].ok
        assert list(client.iter_order_events()) == []
        assert client.retries == 5
    counts = market.order_counts()
    assert counts["acknowledged"] == 30 and counts["by_status"] == {"created": 29, "picking": 1}


def test_orders_survive_a_restart(market: MarketplaceSim) -> None:
    market.generate_orders(4, seed=2)
    with market.client() as client:
        client.acknowledge_orders(["MO00000001"])
    market.restart()
    counts = market.order_counts()
    assert (counts["orders"], counts["acknowledged"]) == (4, 1)


# ------------------------------------------------------------------------ Omnitron -> market
def test_send_updated_orders_changes_the_marketplace(market: MarketplaceSim) -> None:
    order = a_three_unit_order(market, lines=2)
    first, second = order.lines
    remote_ids = {}
    units = []
    pk = 100
    for line in order.lines:
        for _ in range(line.quantity):
            pk += 1
            remote_ids[pk] = line.line_id
            status = "500" if line is first else "450"
            units.append(OrderItem(pk=pk, status=status, tracking_number="TRK-5"))
    units[0] = OrderItem(pk=units[0].pk, status="100")  # one unit of the first line cancelled
    item = OrderUpdateItem(
        obj=Order(pk=1, number=order.number, status="500"),
        sku=order.number,
        remote_id=order.id,
        extra={"items": units, "item_remote_ids": remote_ids},
    )
    integ = integration(market)
    rows = integ.send_updated_orders([item])
    assert [(r.status, r.number, r.remote_id) for r in rows] == [
        (ResponseStatus.SUCCESS, order.number, order.id)
    ]
    stored = market.order(order.id)["raw"]
    lines = {line["line_id"]: line for line in stored["lines"]}
    assert lines[first.line_id]["status"] == "shipped"
    assert lines[first.line_id]["cancelled_quantity"] == 1
    assert lines[second.line_id]["status"] == "picking"
    assert stored["tracking_number"] == "TRK-5"
    assert integ.send_updated_orders([item])[0].status == ResponseStatus.SUCCESS  # idempotent
    assert market.order(order.id)["raw"]["lines"] == stored["lines"]
    integ.close()


# ------------------------------------------------------------------------ market -> Omnitron
def test_cancellations_are_quantity_aware_events(market: MarketplaceSim) -> None:
    order = a_three_unit_order(market)
    line = order.lines[0].line_id
    market.cancel_lines(order.id, [{"line_id": line, "quantity": 1}])
    market.cancel_lines(order.id, [{"line_id": line, "quantity": 1, "reason_code": "other"}])
    integ = integration(market)
    cancels = list(integ.get_cancelled_orders())
    assert [(c.order, c.cancel_items, c.quantities, c.reasons) for c in cancels] == [
        (order.id, [line], {line: 1}, {line: "out_of_stock"}),
        (order.id, [line], {line: 2}, {line: "other"}),  # totals: applying twice adds nothing
    ]
    integ.acknowledge_cancelled_orders([cancels[0].event_id])
    assert [c.event_id for c in integ.get_cancelled_orders()] == [cancels[1].event_id]
    integ.acknowledge_cancelled_orders([c.event_id for c in cancels])  # repeat is fine
    assert list(integ.get_cancelled_orders()) == []
    assert market.order_counts()["events"]["cancellation"] == {"total": 2, "acknowledged": 2}
    integ.close()


def test_line_updates_become_order_item_updates(market: MarketplaceSim) -> None:
    order = a_three_unit_order(market, lines=2)
    market.update_line(
        order.id,
        status="shipped",
        tracking_number="MKT-TRK",
        invoice_number="E-INV-1",
        invoice_date="2026-01-05T10:00:00+00:00",
    )
    market.update_line(order.id, line_id=order.lines[0].line_id, status="delivered")
    integ = integration(market)
    updates = list(integ.get_updated_order_items())
    assert [(u.remote_id, u.status) for u in updates] == [
        (order.lines[0].line_id, "500"),
        (order.lines[1].line_id, "500"),
        (order.lines[0].line_id, "550"),
    ]
    assert updates[0].tracking_number == "MKT-TRK" and updates[0].invoice_number == "E-INV-1"
    assert updates[0].invoice_date is not None and updates[0].invoice_date.day == 5
    integ.acknowledge_order_item_updates([u.event_id for u in updates])
    assert list(integ.get_updated_order_items()) == []
    integ.close()


def test_claims_and_decisions(market: MarketplaceSim) -> None:
    order = a_three_unit_order(market, lines=2)
    first, second = order.lines
    cancel = market.create_claim(order.id, first.line_id, type="cancel", quantity=2)
    market.update_line(order.id, line_id=second.line_id, status="delivered", tracking_number="T")
    ret = market.create_claim(
        order.id, second.line_id, type="return", reason_code="damaged_item", description="torn"
    )
    integ = integration(market)
    requests = list(integ.get_cancellation_requests())
    assert [(r.remote_id, r.order_item, r.cancellation_type, r.quantity) for r in requests] == [
        (cancel["id"], first.line_id, "cancel", 2),
        (ret["id"], second.line_id, "refund", 1),
    ]
    assert requests[1].reason == "damaged_item" and requests[1].description == "torn"
    integ.acknowledge_cancellation_requests([r.remote_id for r in requests])
    assert list(integ.get_cancellation_requests()) == []

    def decide(remote_id: str, line: str, status: str) -> tuple[ResponseStatus, str]:
        row = integ.update_cancellation_request(
            ChannelCancellationRequestDto(
                remote_id=remote_id, order_item=line, status=status, reason="1"
            )
        )
        return row.status, row.message

    assert decide(cancel["id"], first.line_id, "waiting")[0] == ResponseStatus.SUCCESS
    assert decide(cancel["id"], first.line_id, "approved")[0] == ResponseStatus.SUCCESS
    assert decide(cancel["id"], first.line_id, "approved")[0] == ResponseStatus.SUCCESS
    status, message = decide(cancel["id"], first.line_id, "rejected")
    assert status == ResponseStatus.FAIL and "already decided" in message
    assert decide(ret["id"], second.line_id, "rejected")[0] == ResponseStatus.SUCCESS
    assert decide("CL09999999", second.line_id, "approved")[0] == ResponseStatus.FAIL
    stored = market.order(order.id)["raw"]
    assert stored["lines"][0]["cancelled_quantity"] == 2
    assert stored["lines"][1]["returned_quantity"] == 0
    claims = market.order_counts()["claims"]
    assert claims["by_status"] == {"approved": 1, "rejected": 1}
    integ.close()
