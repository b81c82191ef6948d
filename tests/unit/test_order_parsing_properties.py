"""Property: reading marketplace orders, events and claims, one bad item is one bad item.

Pages mixing valid items with items broken in any of the ways the hostile-data review
found (and a few more) go through the reference channel as the worker runs it: the real
:class:`MarketplaceClient` (its HTTP answered in-process) and the channel's conversion to
the engine's DTOs with their validation. Every broken item comes out as its own
``Malformed*Dto`` keyed by its number or id, and every valid one comes out as its DTO with
the values it was sent, in order.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

from channel_app_template.channel import (
    ORDER_CURRENCIES,
    CancellationRequestDto,
    CancelOrderDto,
    ChannelCreateOrderDto,
    ChannelUpdateOrderItemDto,
    IntegrationContext,
    MalformedEventDto,
    MalformedOrderDto,
)
from channel_app_template.channel.reference.integration import (
    ReferenceConfig,
    ReferenceIntegration,
)
from channel_app_template.channel.reference.marketplace_client import (
    MarketplaceClient,
    RetryPolicy,
)

BASE = "http://market.test"
Wire = dict[str, Any]
Mutation = Callable[[Wire], None]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- The marketplace, answered in-process ------------------------------------------------


def served(lists: Mapping[str, list[Any]]) -> httpx.MockTransport:
    """Answers the listing routes with one page each: ``{path or path?type: items}``."""

    def answer(request: httpx.Request) -> httpx.Response:
        kind = request.url.params.get("type", "")
        path = request.url.path.removeprefix("/api/v1")
        items = lists.get(f"{path}?{kind}" if kind else path, [])
        return httpx.Response(200, json={"items": items, "limit": 100, "next_cursor": None})

    return httpx.MockTransport(answer)


def channel(lists: Mapping[str, list[Any]]) -> ReferenceIntegration:
    context = IntegrationContext(channel_id=1, catalog_id=1, logger=logging.getLogger("prop"))
    integration = ReferenceIntegration(ReferenceConfig(api_url=BASE), context)
    client = MarketplaceClient(
        BASE, "key", retry=RetryPolicy(max_attempts=1), transport=served(lists)
    )
    integration.client = client
    return integration


# --- Valid items ---------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
money = st.decimals(min_value=0, max_value=10_000, places=2)


@st.composite
def orders(draw: st.DrawFn, n: int) -> Wire:
    currency = draw(st.sampled_from(sorted(ORDER_CURRENCIES)))
    lines = []
    for index in range(draw(st.integers(1, 4))):
        unit = draw(money)
        listed = unit + draw(money)
        lines.append(
            {
                "line_id": f"ML{n:04d}{index:04d}",
                "sku": f"SKU-{index}",
                "product_id": f"MP{n:04d}{index:04d}",
                "title": draw(names),
                "quantity": draw(st.integers(1, 100)),
                "unit_price": str(unit),
                "list_price": str(listed),
                "discount_amount": str(draw(st.decimals(0, unit, places=2))),
                "tax_rate": draw(st.sampled_from(["0", "1", "8", "18", "20"])),
                "currency": currency,
                "status": "created",
            }
        )
    person = {"first_name": draw(names), "last_name": draw(names)}
    address = {
        **person,
        "email": "buyer@example.com",
        "phone": draw(st.from_regex(r"\+90[0-9]{10}", fullmatch=True)),
        "country_code": "TR",
        "city": draw(names.filter(str.strip)),
        "address_line": draw(names),
        "township": draw(st.none() | names),
    }
    return {
        "id": f"MO{n:08d}",
        "number": f"MKT-{n:08d}",
        "status": "created",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "acknowledged": False,
        "currency": currency,
        "customer": {"id": f"C{n}", "email": "buyer@example.com", **person},
        "shipping_address": address,
        "billing_address": address,
        "cargo_code": draw(st.sampled_from(["yurtici", "aras", "mng"])),
        "totals": {
            "subtotal": "1",
            "shipping": str(draw(money)),
            "discount": "0",
            "grand_total": "1",
        },
        "lines": lines,
    }


# --- Broken items: each mutation makes any valid order invalid ----------------------------


def _line(change: Callable[[Wire], None]) -> Mutation:
    return lambda order: change(order["lines"][0])


def _set(**values: Any) -> Callable[[Wire], None]:
    return lambda target: target.update(values)


def _drop(key: str) -> Mutation:
    return lambda order: order.pop(key)


def _discount_above(line: Wire) -> None:
    line["discount_amount"] = str(max(Decimal(line["unit_price"]), Decimal(line["list_price"])) + 1)


def _twin(order: Wire) -> None:
    twin = copy.deepcopy(order["lines"][0])
    twin["line_id"] += "-twin"
    order["lines"].append(twin)


def _currency(code: str) -> Mutation:
    def apply(order: Wire) -> None:
        order["currency"] = code
        for line in order["lines"]:
            line["currency"] = code

    return apply


ORDER_BREAKS: dict[str, Mutation] = {
    "quantity 10**12": _line(_set(quantity=10**12)),
    "quantity 0": _line(_set(quantity=0)),
    "quantity not a number": _line(_set(quantity="two")),
    "negative unit price": _line(_set(unit_price="-0.01")),
    "price not a number": _line(_set(unit_price="N/A")),
    "negative list price": _line(_set(list_price="-5")),
    "negative tax": _line(_set(tax_rate="-18")),
    "tax above 100": _line(_set(tax_rate="101")),
    "discount above the price": _line(_discount_above),
    "currency XXXX": _currency("XXXX"),
    "unknown currency": _currency("ABC"),
    "same product twice": _twin,
    "10 KB customer name": lambda o: o["customer"].update(first_name="A" * 10_000),
    "10 KB address line": lambda o: o["shipping_address"].update(address_line="S" * 10_000),
    "10 KB number": _set(number="N" * 10_000),
    "no number": _set(number=None),
    "no customer": _drop("customer"),
    "no lines": _set(lines=[]),
    "lines not a list": _set(lines="<html>oops</html>"),
    "bad date": _set(created_at="yesterday afternoon"),
    "10 KB cargo code": _set(cargo_code="c" * 10_000),
}


@st.composite
def order_pages(draw: st.DrawFn) -> list[tuple[Wire, str | None]]:
    """(payload, the break applied or None) for a page of 1-12 orders."""
    page = []
    for n in range(draw(st.integers(1, 12))):
        order = draw(orders(n))
        broken = draw(st.none() | st.sampled_from(sorted(ORDER_BREAKS)))
        if broken is not None:
            ORDER_BREAKS[broken](order)
        page.append((order, broken))
    return page


@SETTINGS
@given(order_pages())
def test_a_broken_order_fails_alone_and_valid_ones_pass_unchanged(
    page: list[tuple[Wire, str | None]],
) -> None:
    got = list(channel({"/orders": [order for order, _ in page]}).get_orders())
    assert len(got) == len(page)
    for (sent, broken), dto in zip(page, got, strict=True):
        if broken is not None:
            assert isinstance(dto, MalformedOrderDto), broken
            number = sent.get("number")
            expected = number[:128] if isinstance(number, str) and number else sent["id"]
            assert dto.number == expected and dto.message
            continue
        assert isinstance(dto, ChannelCreateOrderDto), dto
        assert (dto.order.remote_id, dto.order.number) == (sent["id"], sent["number"])
        assert dto.order.currency == sent["currency"]
        assert dto.order.customer.first_name == sent["customer"]["first_name"]
        assert dto.order.shipping_address.line == sent["shipping_address"]["address_line"]
        assert [
            (i.remote_id, i.product, i.quantity, i.price, i.retail_price, i.tax_rate)
            for i in dto.order_item
        ] == [
            (
                line["line_id"],
                line["product_id"],
                line["quantity"],
                Decimal(line["unit_price"]),
                Decimal(line["list_price"]),
                Decimal(line["tax_rate"]),
            )
            for line in sent["lines"]
        ]


# --- Events and claims -----------------------------------------------------------------------


def event(n: int, kind: str, **fields: Any) -> Wire:
    return {
        "id": f"EV{n:08d}",
        "type": kind,
        "order_id": f"MO{n:08d}",
        "order_number": f"MKT-{n:08d}",
        "created_at": "2026-01-02T03:04:05Z",
        "acknowledged": False,
        **fields,
    }


@st.composite
def line_updates(draw: st.DrawFn, n: int) -> Wire:
    return event(
        n,
        "line_update",
        line_id=f"ML{n:08d}",
        status=draw(st.sampled_from(["picking", "shipped", "delivered", "created"])),
        tracking_number=draw(st.none() | st.text("ABC0123456789", min_size=1, max_size=30)),
        invoice_number=draw(st.none() | st.text("INV-0123456789", min_size=1, max_size=30)),
    )


@st.composite
def cancellations(draw: st.DrawFn, n: int) -> Wire:
    lines = []
    for index in range(draw(st.integers(1, 3))):
        total = draw(st.integers(1, 50))
        cancelled = draw(st.integers(1, total))
        lines.append(
            {
                "line_id": f"ML{n:04d}{index:04d}",
                "quantity": draw(st.integers(1, cancelled)),
                "cancelled_quantity": cancelled,
                "line_quantity": total,
                "reason_code": draw(st.sampled_from(["changed_mind", "out_of_stock", "other"])),
            }
        )
    return event(n, "cancellation", lines=lines)


@st.composite
def claims(draw: st.DrawFn, n: int) -> Wire:
    return {
        "id": f"CL{n:08d}",
        "order_id": f"MO{n:08d}",
        "order_number": f"MKT-{n:08d}",
        "line_id": f"ML{n:08d}",
        "type": draw(st.sampled_from(["cancel", "return"])),
        "quantity": draw(st.integers(1, 100)),
        "reason_code": draw(st.sampled_from(["changed_mind", "damaged_item", "other"])),
        "description": draw(names),
        "status": "waiting",
        "created_at": "2026-01-02T03:04:05Z",
        "acknowledged": False,
    }


EVENT_BREAKS: dict[str, dict[str, Mutation]] = {
    "line_update": {
        "unknown status": _set(status="teleported"),
        "no line": _set(line_id=None),
        "10 KB tracking number": _set(tracking_number="T" * 10_000),
        "no id": _drop("id"),
        "bad date": _set(created_at="soon"),
    },
    "cancellation": {
        "no lines": _set(lines=[]),
        "lines not a list": _set(lines="garbage"),
        "same line twice": lambda e: e["lines"].append(dict(e["lines"][0])),
        "negative units": lambda e: e["lines"][0].update(cancelled_quantity=-1),
        "units not a number": lambda e: e["lines"][0].update(cancelled_quantity="many"),
        "10 KB reason": lambda e: e["lines"][0].update(reason_code="r" * 10_000),
    },
    "claims": {
        "no units": _set(quantity=0),
        "units not a number": _set(quantity="many"),
        "10 KB reason": _set(reason_code="r" * 10_000),
        "10 KB description": _set(description="d" * 10_000),
        "unknown type": _set(type="steal"),
        "no line": _drop("line_id"),
    },
}
MAKERS = {"line_update": line_updates, "cancellation": cancellations, "claims": claims}


@st.composite
def event_pages(draw: st.DrawFn, kind: str) -> list[tuple[Wire, str | None]]:
    page = []
    for n in range(draw(st.integers(1, 12))):
        item = draw(MAKERS[kind](n))
        broken = draw(st.none() | st.sampled_from(sorted(EVENT_BREAKS[kind])))
        if broken is not None:
            EVENT_BREAKS[kind][broken](item)
        page.append((item, broken))
    return page


def _check_events(
    page: list[tuple[Wire, str | None]], got: list[Any], valid: Callable[[Wire, Any], None]
) -> None:
    assert len(got) == len(page)
    for (sent, broken), dto in zip(page, got, strict=True):
        if broken is not None:
            assert isinstance(dto, MalformedEventDto), broken
            assert dto.key == sent.get("id", "?") and dto.message
        else:
            valid(sent, dto)


@SETTINGS
@given(event_pages("line_update"))
def test_a_broken_line_update_fails_alone(page: list[tuple[Wire, str | None]]) -> None:
    integration = channel({"/order-events?line_update": [item for item, _ in page]})

    def valid(sent: Wire, dto: Any) -> None:
        assert isinstance(dto, ChannelUpdateOrderItemDto), dto
        assert (dto.remote_id, dto.event_id) == (sent["line_id"], sent["id"])
        assert dto.status == integration.conf.item_status_mapping.get(sent["status"])
        assert dto.tracking_number == sent["tracking_number"]
        assert dto.invoice_number == sent["invoice_number"]

    _check_events(page, list(integration.get_updated_order_items()), valid)


@SETTINGS
@given(event_pages("cancellation"))
def test_a_broken_cancellation_fails_alone(page: list[tuple[Wire, str | None]]) -> None:
    def valid(sent: Wire, dto: Any) -> None:
        assert isinstance(dto, CancelOrderDto), dto
        assert (dto.order, dto.event_id) == (sent["order_id"], sent["id"])
        assert dto.cancel_items == [line["line_id"] for line in sent["lines"]]
        assert dto.quantities == {
            line["line_id"]: line["cancelled_quantity"] for line in sent["lines"]
        }

    integration = channel({"/order-events?cancellation": [item for item, _ in page]})
    _check_events(page, list(integration.get_cancelled_orders()), valid)


@SETTINGS
@given(event_pages("claims"))
def test_a_broken_claim_fails_alone(page: list[tuple[Wire, str | None]]) -> None:
    def valid(sent: Wire, dto: Any) -> None:
        assert isinstance(dto, CancellationRequestDto), dto
        assert (dto.remote_id, dto.order_item) == (sent["id"], sent["line_id"])
        assert (dto.quantity, dto.reason) == (sent["quantity"], sent["reason_code"])
        assert dto.cancellation_type == ("cancel" if sent["type"] == "cancel" else "refund")

    integration = channel({"/claims": [item for item, _ in page]})
    _check_events(page, list(integration.get_cancellation_requests()), valid)
