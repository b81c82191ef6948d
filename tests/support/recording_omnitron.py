"""An ``OMNITRON_MODULE`` and a ``CHANNEL_MODULE`` for the test that proves the Omnitron port
is every flow's way to Omnitron: the port with every public call recorded, and a channel
with one order and a small category tree."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from channel_app_template.akinon import port
from channel_app_template.channel import (
    AddressDto,
    CategoryNodeDto,
    CategoryTreeDto,
    ChannelCreateOrderDto,
    ChannelIntegration as BaseChannel,
    ChannelOrderDto,
    CustomerDto,
    OrderItemDto,
)

CALLS: list[str] = []
"""The name of every public port method called, in order (the test clears it)."""


class OmnitronIntegration(port.OmnitronIntegration):
    """The port, recording each public method called on it before it runs."""


def _recorded(name: str) -> Callable[..., Any]:
    def call(self: OmnitronIntegration, *args: Any, **kwargs: Any) -> Any:
        CALLS.append(name)
        return getattr(super(OmnitronIntegration, self), name)(*args, **kwargs)

    call.__name__ = name
    return call


for _name, _ in inspect.getmembers(port.OmnitronIntegration, inspect.isfunction):
    if not _name.startswith("_"):
        setattr(OmnitronIntegration, _name, _recorded(_name))


def _address() -> AddressDto:
    return AddressDto(
        email="ada@example.com",
        phone_number="5550001",
        first_name="Ada",
        last_name="Lovelace",
        country="TR",
        city="Istanbul",
        township="Kadikoy",
        district="Moda",
        line="Street 1",
    )


class ChannelIntegration(BaseChannel):
    """One order of product ``mp-1`` and a two-level category tree."""

    acknowledged: list[str] = []  # noqa: RUF012  (the test reads it after the run)

    def check_connection(self) -> None:
        return None

    def get_orders(self) -> list[ChannelCreateOrderDto]:
        if "o-1" in self.acknowledged:
            return []
        order = ChannelOrderDto(
            remote_id="o-1",
            number="PORT-00001",
            customer=CustomerDto(email="ada@example.com", first_name="Ada", last_name="L"),
            shipping_address=_address(),
            billing_address=_address(),
            currency="TRY",
            amount=Decimal("20.00"),
            cargo_company="yurtici",
            created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        line = OrderItemDto(
            remote_id="o-1-l1",
            product="mp-1",
            price=Decimal("10.00"),
            price_currency="TRY",
            quantity=2,
        )
        return [ChannelCreateOrderDto(order=order, order_item=[line])]

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        self.acknowledged.extend(remote_ids)

    def get_category_tree_and_nodes(self) -> CategoryTreeDto:
        shirts = CategoryNodeDto(remote_id="c11", name="Shirts")
        return CategoryTreeDto(
            roots=[CategoryNodeDto(remote_id="c1", name="Apparel", children=[shirts])]
        )
