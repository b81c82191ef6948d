"""The order DTOs refuse what Omnitron would otherwise store silently: every nonsense value
of the hostile-data review, one by one, next to the valid order it was made from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from channel_app_template.channel import (
    CancellationRequestDto,
    CancelOrderDto,
    ChannelCreateOrderDto,
    ChannelUpdateOrderItemDto,
    MalformedEventDto,
    MalformedOrderDto,
)
from channel_app_template.order_bounds import MAX_LINE_QUANTITY, MAX_ORDER_UNITS


def address() -> dict[str, Any]:
    return {
        "email": "ada@example.com",
        "phone_number": "5550001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "TR",
        "city": "Istanbul",
        "line": "Street 1",
    }


def line(n: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "remote_id": f"L{n}",
        "product": f"P{n}",
        "price": "10.00",
        "price_currency": "TRY",
        "tax_rate": "18",
        "quantity": 2,
        "retail_price": "12.00",
        "discount_amount": "1.00",
        **changes,
    }


def order(lines: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "order": {
            "remote_id": "o-1",
            "number": "MP-1",
            "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "L"},
            "shipping_address": address(),
            "billing_address": address(),
            "currency": "TRY",
            "amount": "30.00",
            "shipping_amount": "5.00",
            "cargo_company": "yurtici",
            "created_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            **changes,
        },
        "order_item": lines if lines is not None else [line(1), line(2)],
    }


def with_customer(**changes: Any) -> dict[str, Any]:
    data = order()
    data["order"]["customer"].update(changes)
    return data


def with_address(**changes: Any) -> dict[str, Any]:
    data = order()
    data["order"]["shipping_address"].update(changes)
    return data


def test_the_valid_order_passes_unchanged() -> None:
    dto = ChannelCreateOrderDto.model_validate(order())
    assert dto.order_item[0].price == Decimal("10.00")
    assert dto.order_item[0].quantity == 2 and dto.order.currency == "TRY"


NONSENSE: dict[str, dict[str, Any]] = {
    "negative unit price": order([line(price="-10.00")]),
    "negative list price": order([line(retail_price="-1")]),
    "negative tax": order([line(tax_rate="-18")]),
    "tax above 100%": order([line(tax_rate="180")]),
    "discount above the price": order([line(price="10", retail_price="12", discount_amount="13")]),
    "negative discount": order([line(discount_amount="-1")]),
    "currency XXXX": order(currency="XXXX"),
    "unknown currency code": order(currency="ABC"),
    "line currency XXXX": order([line(price_currency="XXXX")]),
    "line in another currency": order([line(price_currency="USD")]),
    "quantity 10**12": order([line(quantity=10**12)]),
    "quantity past the ceiling": order([line(quantity=MAX_LINE_QUANTITY + 1)]),
    "quantity 0": order([line(quantity=0)]),
    "more units than the ceiling": order(  # full lines, more units than an order may have
        [
            line(n, quantity=MAX_LINE_QUANTITY)
            for n in range(1, MAX_ORDER_UNITS // MAX_LINE_QUANTITY + 2)
        ]
    ),
    "same product on two lines": order([line(1), line(2, product="P1")]),
    "same line twice": order([line(1), line(1, product="P2")]),
    "no lines": order([]),
    "NaN price": order([line(price="NaN")]),
    "infinite amount": order(amount="Infinity"),
    "amount past the ceiling": order(amount="1e15"),
    "negative shipping": order(shipping_amount="-5"),
    "order discount above its total": order(discount_amount="1000"),
    "10 KB number": order(number="N" * 10_000),
    "10 KB notes": order(notes="x" * 10_000),
    "10 KB cargo code": order(cargo_company="c" * 10_000),
    "10 KB customer name": with_customer(first_name="A" * 10_000),
    "10 KB e-mail": with_customer(email="a" * 10_000 + "@example.com"),
    "10 KB address line": with_address(line="S" * 10_000),
    "10 KB city": with_address(city="C" * 10_000),
    "10 KB tax number": with_address(tax_no="1" * 10_000),
    "10 KB line id": order([line(remote_id="L" * 10_000)]),
    "huge extra_field": order(extra_field={"blob": "x" * 20_000}),
    "unknown item status": order([line(status="teleported")]),
}


@pytest.mark.parametrize("name", list(NONSENSE))
def test_nonsense_order_values_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        ChannelCreateOrderDto.model_validate(NONSENSE[name])


def test_a_free_line_and_a_discount_up_to_the_list_price_are_fine() -> None:
    ChannelCreateOrderDto.model_validate(
        order([line(1, price="0", retail_price=None, discount_amount=None), line(2)])
    )
    ChannelCreateOrderDto.model_validate(
        order([line(price="40", retail_price="100", discount_amount="60")])
    )


def test_refusal_messages_name_fields_not_values() -> None:
    with pytest.raises(ValidationError) as raised:
        ChannelCreateOrderDto.model_validate(with_customer(first_name="Zeynep" * 2_000))
    problem = raised.value.errors()[0]
    assert "Zeynep" not in problem["msg"] and "first_name" in problem["loc"]


EVENT_NONSENSE: list[tuple[type[Any], dict[str, Any]]] = [
    (ChannelUpdateOrderItemDto, {"remote_id": "L1", "status": "teleported"}),
    (ChannelUpdateOrderItemDto, {"remote_id": "L1", "tracking_number": "T" * 10_000}),
    (ChannelUpdateOrderItemDto, {"remote_id": ""}),
    (CancelOrderDto, {"order": "o-1", "cancel_items": ["L1", "L1"]}),
    (CancelOrderDto, {"order": "o-1", "cancel_items": ["L1"], "quantities": {"L1": -1}}),
    (CancelOrderDto, {"order": "o-1", "cancel_items": ["L1"], "forced_refund_amount": "-5"}),
    (CancelOrderDto, {"order": "o-1", "cancel_items": []}),
    (CancellationRequestDto, {"remote_id": "C1", "order_item": "L1", "reason": "r" * 10_000}),
    (CancellationRequestDto, {"remote_id": "C1", "order_item": "L1", "reason": "x", "quantity": 0}),
    (
        CancellationRequestDto,
        {"remote_id": "C1", "order_item": "L1", "reason": "x", "cancellation_type": "steal"},
    ),
]


@pytest.mark.parametrize(("model", "data"), EVENT_NONSENSE)
def test_nonsense_event_values_are_refused(model: type[Any], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_what_describes_an_unreadable_item_never_fails_and_stays_bounded() -> None:
    order_dto = MalformedOrderDto(number="N" * 10_000, message="m" * 10**6, raw="r" * 10**6)
    assert len(order_dto.number) == 128 and len(order_dto.message) == 2_000
    assert len(order_dto.raw) == 10_000
    event = MalformedEventDto.model_validate({"key": None, "message": 42})
    assert event.key == "" and event.message == "42"
