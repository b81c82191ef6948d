"""The reference integration's order commands against a fake marketplace client: DTO
conversion, malformed orders, the Omnitron -> marketplace status mapping, claim decisions."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

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
from channel_app_template.channel.commands import ORDER_COMMANDS
from channel_app_template.channel.reference.integration import (
    ReferenceConfig,
    ReferenceIntegration,
)
from channel_app_template.channel.reference.marketplace_client import (
    Claim,
    MarketOrder,
    OrderBulkResult,
    OrderEvent,
    OrderStatusUpdate,
    UnreadableOrder,
)
from channel_app_template.channel.reference.orders import order_dto
from channel_app_template.errors import NotFoundError, RunError


def wire_order(n: int = 1, **overrides: Any) -> dict[str, Any]:
    address = {
        "first_name": "Ayse",
        "last_name": "Kaya",
        "email": "ayse@example.com",
        "phone": "+905551112233",
        "country_code": "TR",
        "city": "Istanbul",
        "township": "Kadikoy",
        "district": "Moda",
        "address_line": "Bagdat Cd. No:1",
        "postcode": "34710",
    }
    order: dict[str, Any] = {
        "id": f"MO{n:08d}",
        "number": f"MKT-{n:08d}",
        "status": "created",
        "created_at": "2026-01-02T03:04:05.000Z",
        "updated_at": "2026-01-02T03:04:05.000Z",
        "acknowledged": False,
        "currency": "TRY",
        "customer": {
            "id": "C1",
            "email": "ayse@example.com",
            "first_name": "Ayse",
            "last_name": "Kaya",
            "phone": "+905551112233",
        },
        "shipping_address": address,
        "billing_address": {**address, "company_name": "Kaya Ltd.", "tax_number": "123"},
        "cargo_code": "yurtici",
        "totals": {
            "subtotal": "299.70",
            "shipping": "29.90",
            "discount": "0.00",
            "grand_total": "329.60",
        },
        "lines": [
            {
                "line_id": "ML00000001",
                "sku": "SKU-1",
                "product_id": "MP00000001",
                "title": "Shirt",
                "quantity": 3,
                "unit_price": "99.90",
                "list_price": "120.00",
                "discount_amount": "0.00",
                "tax_rate": "18",
                "currency": "TRY",
                "status": "created",
            }
        ],
    }
    order.update(overrides)
    return order


class FakeClient:
    """The MarketplaceClient methods the order commands use, recorded."""

    def __init__(self) -> None:
        self.orders: list[MarketOrder | UnreadableOrder] = []
        self.events: list[OrderEvent] = []
        self.claims: list[Claim] = []
        self.calls: list[tuple[str, Any]] = []
        self.decide_error: Exception | None = None

    def iter_orders(self, **kwargs: Any) -> Iterator[MarketOrder | UnreadableOrder]:
        self.calls.append(("iter_orders", kwargs))
        yield from self.orders

    def _ok(self, name: str, ids: Sequence[str]) -> OrderBulkResult:
        self.calls.append((name, list(ids)))
        return OrderBulkResult.model_validate(
            {
                "accepted_count": len(ids),
                "rejected_count": 0,
                "items": [{"index": i, "status": "accepted"} for i in range(len(ids))],
            }
        )

    def acknowledge_orders(self, ids: Sequence[str]) -> OrderBulkResult:
        return self._ok("acknowledge_orders", ids)

    def acknowledge_order_events(self, ids: Sequence[str]) -> OrderBulkResult:
        return self._ok("acknowledge_order_events", ids)

    def acknowledge_claims(self, ids: Sequence[str]) -> OrderBulkResult:
        return self._ok("acknowledge_claims", ids)

    def update_order_statuses(self, updates: Sequence[OrderStatusUpdate]) -> OrderBulkResult:
        self.calls.append(("update_order_statuses", list(updates)))
        items = []
        for index, update in enumerate(updates):
            if update.order_id == "MO-REFUSED":
                items.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "reasons": [{"code": "unknown_order", "message": "no such order"}],
                    }
                )
            else:
                items.append({"index": index, "status": "accepted", "notes": []})
        return OrderBulkResult.model_validate(
            {"accepted_count": 0, "rejected_count": 0, "items": items}
        )

    def iter_order_events(self, event_type: str, **kwargs: Any) -> Iterator[OrderEvent]:
        yield from (e for e in self.events if e.type == event_type)

    def iter_claims(self, **kwargs: Any) -> Iterator[Claim]:
        yield from self.claims

    def decide_claim(self, claim_id: str, decision: str, *, note: str | None = None) -> Claim:
        self.calls.append(("decide_claim", (claim_id, decision, note)))
        if self.decide_error is not None:
            raise self.decide_error
        return claim(claim_id, status="approved" if decision == "approve" else "rejected")

    def close(self) -> None:
        pass


def claim(claim_id: str = "CL00000001", **overrides: Any) -> Claim:
    data = {
        "id": claim_id,
        "order_id": "MO00000001",
        "order_number": "MKT-00000001",
        "line_id": "ML00000001",
        "type": "return",
        "quantity": 2,
        "reason_code": "size_problem",
        "description": "too small",
        "status": "waiting",
        "created_at": "2026-01-02T03:04:05.000Z",
        "acknowledged": False,
        **overrides,
    }
    return Claim.model_validate(data)


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
def integration(fake: FakeClient) -> ReferenceIntegration:
    context = IntegrationContext(channel_id=1, catalog_id=1, logger=logging.getLogger("test"))
    integ = ReferenceIntegration(ReferenceConfig(), context)
    integ.client = fake  # type: ignore[assignment]
    return integ


def test_every_order_command_but_the_async_check_is_supported() -> None:
    supported = set(ReferenceIntegration.supported_commands())
    assert set(ORDER_COMMANDS) - supported == {"check_orders"}  # updates are synchronous


def test_order_conversion() -> None:
    dto = order_dto(MarketOrder.model_validate(wire_order()))
    order = dto.order
    assert (order.remote_id, order.number, order.cargo_company) == (
        "MO00000001",
        "MKT-00000001",
        "yurtici",
    )
    assert order.amount == Decimal("329.60") and order.shipping_amount == Decimal("29.90")
    assert order.discount_amount is None and order.currency == "TRY"
    assert order.customer.email == "ayse@example.com" and order.customer.channel_code == "C1"
    ship = order.shipping_address
    assert (ship.country, ship.city, ship.township, ship.district) == (
        "TR",
        "Istanbul",
        "Kadikoy",
        "Moda",
    )
    assert ship.line == "Bagdat Cd. No:1" and not ship.e_bill_taxpayer
    assert order.billing_address.tax_no == "123" and order.billing_address.e_bill_taxpayer
    assert order.extra_field["id"] == "MO00000001"
    (item,) = dto.order_item
    assert (item.remote_id, item.product, item.quantity) == ("ML00000001", "MP00000001", 3)
    assert item.price == Decimal("99.90") and item.retail_price == Decimal("120.00")
    assert item.tax_rate == Decimal("18") and item.price_currency == "TRY"


def test_get_orders_turns_unreadable_and_invalid_orders_into_malformed(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    fake.orders = [
        MarketOrder.model_validate(wire_order(1)),
        UnreadableOrder(id="MO00000002", number="MKT-2", error="lines: too short", raw={"a": 1}),
        UnreadableOrder(id="MO00000003", number=None, error="number: not a string", raw="<x>"),
        MarketOrder.model_validate(wire_order(4, number="N" * 200)),  # too long for Omnitron
        MarketOrder.model_validate(wire_order(5)),
    ]
    got = list(integration.get_orders())
    assert [type(o).__name__ for o in got] == [
        "ChannelCreateOrderDto",
        "MalformedOrderDto",
        "MalformedOrderDto",
        "MalformedOrderDto",
        "ChannelCreateOrderDto",
    ]
    assert isinstance(got[1], MalformedOrderDto) and got[1].number == "MKT-2"
    assert "lines: too short" in got[1].message and got[1].raw == '{"a": 1}'
    assert isinstance(got[2], MalformedOrderDto) and got[2].number == "MO00000003"
    assert (
        isinstance(got[3], MalformedOrderDto)
        and "number: String should have at most 128" in got[3].message
    )
    assert isinstance(got[4], ChannelCreateOrderDto)
    assert fake.calls[0] == ("iter_orders", {"page_size": 100})


def test_acknowledgements_go_to_the_right_endpoints(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    integration.acknowledge_orders([])
    integration.acknowledge_orders(["MO00000001"])
    integration.acknowledge_order_item_updates(["EV00000001"])
    integration.acknowledge_cancelled_orders(["EV00000002"])
    integration.acknowledge_cancellation_requests(["CL00000001"])
    assert fake.calls == [
        ("acknowledge_orders", ["MO00000001"]),
        ("acknowledge_order_events", ["EV00000001"]),
        ("acknowledge_order_events", ["EV00000002"]),
        ("acknowledge_claims", ["CL00000001"]),
    ]


def update_item(
    remote_id: str | None, units: list[tuple[int, str, str, str | None]], **order: Any
) -> OrderUpdateItem:
    """``units``: (pk, line id, status, tracking number) per Omnitron order item."""
    items = [
        OrderItem(pk=pk, status=status, tracking_number=tracking, invoice_number="INV-9")
        for pk, _, status, tracking in units
    ]
    return OrderUpdateItem(
        obj=Order(pk=7, number="MKT-7", **order),
        sku="MKT-7",
        remote_id=remote_id,
        extra={"items": items, "item_remote_ids": {pk: line for pk, line, _, _ in units}},
    )


def test_send_updated_orders_maps_units_to_lines(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    shipped = update_item(
        "MO00000007",
        [
            (1, "ML1", "500", "TRK-1"),
            (2, "ML1", "550", None),
            (3, "ML1", "100", None),  # one of three units cancelled in Omnitron
            (4, "ML2", "400", None),  # approved only: no status to send
            (5, "ML3", "100", None),  # every unit cancelled
            (6, "ML4", "450", None),
        ],
        cargo_company={"pk": 1, "erp_code": "aras"},
    )
    rows = integration.send_updated_orders(
        [
            shipped,
            update_item(None, [(9, "ML9", "500", None)]),
            update_item("MO-REFUSED", [(10, "ML10", "450", None)]),
        ]
    )
    assert [(r.status, r.number) for r in rows] == [
        (ResponseStatus.SUCCESS, "MKT-7"),
        (ResponseStatus.FAIL, "MKT-7"),
        (ResponseStatus.FAIL, "MKT-7"),
    ]
    assert rows[0].remote_id == "MO00000007" and "no marketplace id" in rows[1].message
    assert "unknown_order" in rows[2].message
    name, updates = fake.calls[0]
    assert name == "update_order_statuses" and len(updates) == 2  # the id-less one is not sent
    update = updates[0]
    assert update.order_id == "MO00000007" and update.status is None
    assert (update.tracking_number, update.invoice_number, update.cargo_code) == (
        "TRK-1",
        "INV-9",
        "aras",
    )
    lines = {line.line_id: (line.status, line.cancelled_quantity) for line in update.lines}
    assert lines == {
        "ML1": ("shipped", 1),  # the least advanced live unit; one unit cancelled
        "ML2": (None, None),
        "ML3": ("cancelled", None),
        "ML4": ("picking", None),
    }


def test_send_updated_orders_without_items_uses_the_order_status(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    integration.send_updated_orders([update_item("MO00000007", [], status="100")])
    integration.send_updated_orders([update_item("MO00000007", [], status="400")])
    first, second = (call[1][0] for call in fake.calls)
    assert first.status == "cancelled" and second.status is None


def test_events_become_item_updates_and_quantity_aware_cancellations(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    common = {
        "order_id": "MO00000001",
        "order_number": "MKT-1",
        "created_at": "2026-01-02T03:04:05.000Z",
        "acknowledged": False,
    }
    fake.events = [
        OrderEvent.model_validate(
            {
                **common,
                "id": "EV00000001",
                "type": "line_update",
                "line_id": "ML1",
                "status": "delivered",
                "tracking_number": "T1",
                "invoice_number": "I1",
                "invoice_date": "2026-01-03T00:00:00+00:00",
                "cargo_code": "mng",
            }
        ),
        OrderEvent.model_validate(
            {
                **common,
                "id": "EV00000002",
                "type": "cancellation",
                "lines": [
                    {
                        "line_id": "ML1",
                        "quantity": 1,
                        "cancelled_quantity": 2,
                        "line_quantity": 3,
                        "reason_code": "out_of_stock",
                    }
                ],
            }
        ),
    ]
    (update,) = integration.get_updated_order_items()
    assert (update.remote_id, update.event_id, update.status) == ("ML1", "EV00000001", "550")
    assert update.tracking_number == "T1" and update.invoice_number == "I1"
    assert update.invoice_date is not None and update.invoice_date.day == 3
    assert update.extra_field == {"order_id": "MO00000001", "cargo_code": "mng"}
    (cancel,) = integration.get_cancelled_orders()
    assert cancel.order == "MO00000001" and cancel.cancel_items == ["ML1"]
    assert cancel.quantities == {"ML1": 2} and cancel.reasons == {"ML1": "out_of_stock"}
    assert cancel.event_id == "EV00000002"


def test_claims_become_cancellation_requests(
    integration: ReferenceIntegration, fake: FakeClient
) -> None:
    fake.claims = [claim(), claim("CL00000002", type="cancel", quantity=1)]
    got = list(integration.get_cancellation_requests())
    assert [(r.remote_id, r.cancellation_type, r.quantity) for r in got] == [
        ("CL00000001", "refund", 2),
        ("CL00000002", "cancel", 1),
    ]
    assert got[0].order_item == "ML00000001" and got[0].reason == "size_problem"


def decision(status: str) -> ChannelCancellationRequestDto:
    return ChannelCancellationRequestDto(
        remote_id="CL00000001", order_item="ML00000001", status=status, reason="4"
    )


def test_claim_decisions(integration: ReferenceIntegration, fake: FakeClient) -> None:
    approved = integration.update_cancellation_request(decision("approved"))
    assert approved.status == ResponseStatus.SUCCESS and approved.remote_id == "CL00000001"
    rejected = integration.update_cancellation_request(decision("rejected"))
    assert rejected.status == ResponseStatus.SUCCESS
    waiting = integration.update_cancellation_request(decision("waiting"))
    assert waiting.status == ResponseStatus.SUCCESS and "not a decision" in waiting.message
    assert [c[1][1] for c in fake.calls] == ["approve", "reject"]
    fake.decide_error = NotFoundError("gone")
    assert integration.update_cancellation_request(decision("approved")).status == "FAIL"
    fake.decide_error = RunError("409", payload={"code": "claim_already_decided"})
    conflict = integration.update_cancellation_request(decision("approved"))
    assert conflict.status == ResponseStatus.FAIL and "already decided" in conflict.message
    fake.decide_error = RunError("400", payload={"code": "invalid_request"})
    with pytest.raises(RunError):
        integration.update_cancellation_request(decision("approved"))


def test_order_conf_keys_are_in_the_settings_form(integration: ReferenceIntegration) -> None:
    keys = {field.key for field in integration.get_channel_conf_schema()}
    assert {"order_status_mapping", "item_status_mapping", "claim_decision_mapping"} <= keys
    assert {"api_url", "api_key", "order_page_size"} <= keys


def test_order_conf_keys_have_defaults_and_can_be_overridden() -> None:
    conf = ReferenceConfig()
    assert conf.order_status_mapping["500"] == "shipped"
    assert conf.item_status_mapping["delivered"] == "550"
    mapping, _ = conf.reason_ids()  # the engine reads it from the extra keys
    assert mapping["other"] == 10 and mapping["changed_mind"] == 1
    assert ReferenceConfig.model_validate({"reason_mapping": {"x": 4}}).reason_ids()[0] == {"x": 4}
    assert conf.claim_decision_mapping["rejected"] == "reject"
    custom = ReferenceConfig.model_validate(
        {"order_status_mapping": {"400": "picking"}, "order_page_size": 500}
    )
    assert custom.order_status_mapping == {"400": "picking"} and custom.order_page_size == 500
