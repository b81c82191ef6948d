"""Order-side Omnitron endpoints: orders, items, cancellation, customers, addresses,
locations, cargos and cancellation requests.

Creating an order is the one call that must never happen twice. :meth:`OrdersApi.create_order`
is sent exactly once; when its fate is unknown it raises :class:`AmbiguousWriteError` and the
caller looks the order up with :meth:`OrdersApi.order_by_number` before deciding anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from channel_app_template.akinon.endpoints import EndpointGroup
from channel_app_template.akinon.models import (
    Address,
    CancellationReason,
    CancellationRequest,
    Cargo,
    Customer,
    CustomerIdentifierField,
    Location,
    Order,
    OrderItem,
    RetailStore,
)
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated
from channel_app_template.errors import ItemError

logger = logging.getLogger(__name__)

HASH_DATA_PREFIX = "hash_data:"
LOCATION_KINDS = ("countries", "cities", "townships", "districts")


def duplicate_address_hash(error: ItemError) -> str | None:
    """The ``hash_data`` Omnitron names when it refuses an address as a duplicate."""
    payload = error.payload
    if not isinstance(payload, dict):
        return None
    messages = payload.get("non_field_errors")
    candidates = messages if isinstance(messages, list) else [messages]
    for message in candidates:
        if isinstance(message, str) and message.startswith(HASH_DATA_PREFIX):
            token = message.split()[0]
            return token[len(HASH_DATA_PREFIX) :] or None
    return None


class OrdersApi(EndpointGroup):
    """Everything an order flow reads from or writes to Omnitron for one channel."""

    # Orders -------------------------------------------------------------------------------

    def create_order(
        self, order: Mapping[str, Any], order_items: Sequence[Mapping[str, Any]]
    ) -> Order:
        """POST ``create_orders/`` once. On :class:`AmbiguousWriteError` look it up by number."""
        body = {"order": dict(order), "order_item": [dict(item) for item in order_items]}
        return self.create(self.channel_path("create_orders"), Order, body)

    def order_by_number(self, number: str) -> Order | None:
        """The channel's order with this number, or ``None`` (the duplicate check)."""
        query = self.list_of(
            self.channel_path("orders"), Order, {"number": number, "channel_id": self.channel_id}
        )
        return query.first()

    def orders(self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Paginated[Order]:
        return self.list_of(self.channel_path("orders"), Order, filters, page_size=page_size)

    def orders_by_ids(self, pks: Iterable[int]) -> Iterator[Order]:
        return self.by_ids(self.channel_path("orders"), Order, pks)

    def order_updates(self, page_size: int = DEFAULT_PAGE_SIZE) -> Paginated[Order]:
        """Orders changed in Omnitron since last sent to the channel."""
        path = self.channel_path("orders", "updates")
        return self.list_of(path, Order, page_size=page_size)

    def cancel_order(
        self,
        order_pk: int,
        cancel_items: Sequence[int],
        reasons: Mapping[int, int],
        forced_refund_amount: str | None = None,
    ) -> dict[str, Any]:
        """POST ``orders/{pk}/cancel/``: not repeated after an ambiguous failure."""
        body = {
            "order": order_pk,
            "cancel_items": list(cancel_items),
            "reasons": {str(item): reason for item, reason in reasons.items()},
            "forced_refund_amount": forced_refund_amount,
        }
        data = self.http.post(self.channel_path("orders", order_pk, "cancel"), body)
        return data if isinstance(data, dict) else {}

    def create_shipping_info(
        self, order_pk: int, order_number: str, shipping_company: str, is_send: bool = True
    ) -> dict[str, Any]:
        body = {
            "order": order_pk,
            "order_number": order_number,
            "shipping_company": shipping_company,
            "is_send": is_send,
        }
        data = self.http.post(self.channel_path("order_shipping_infos"), body)
        return data if isinstance(data, dict) else {}

    # Order items --------------------------------------------------------------------------

    def order_items(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[OrderItem]:
        """E.g. ``order=<pk>`` or ``order__in=1,2`` (one request for many orders)."""
        params = {"sort": "id", **filters}
        path = self.channel_path("order_items")
        return self.list_of(path, OrderItem, params, page_size=page_size)

    def get_order_item(self, pk: int) -> OrderItem:
        return self.get_one(self.channel_path("order_items", pk), OrderItem)

    def update_order_item(self, pk: int, changes: Mapping[str, Any]) -> OrderItem:
        """PATCH only the fields that carry a value (as Akinon's clients do)."""
        body = {name: value for name, value in changes.items() if value not in (None, "")}
        return self.update(self.channel_path("order_items", pk), OrderItem, body)

    # Customers and addresses --------------------------------------------------------------

    def find_customer(self, field: CustomerIdentifierField | str, value: str) -> Customer | None:
        """The channel's customer by email or phone number, or ``None``."""
        field = CustomerIdentifierField(field)
        query = self.list_of(
            self.channel_path("customers"),
            Customer,
            {field.value: value, "channel": self.channel_id},
        )
        return query.first()

    def create_customer(self, body: Mapping[str, Any]) -> Customer:
        payload = {"channel": self.channel_id, **body}
        return self.create(self.channel_path("customers"), Customer, payload)

    def update_customer(self, pk: int, changes: Mapping[str, Any]) -> Customer:
        payload = {"channel": self.channel_id, **changes}
        return self.update(self.channel_path("customers", pk), Customer, payload)

    def find_address(self, hash_data: str) -> Address | None:
        return self.list_of(
            self.channel_path("addresses"), Address, {"hash_data": hash_data}
        ).first()

    def create_address(self, body: Mapping[str, Any]) -> Address:
        """Create an address, or return the existing one Omnitron names as a duplicate.

        Omnitron refuses an address it already has with ``non_field_errors`` starting
        ``hash_data:<hash>``; that is not a failure for us, we read that address instead.
        """
        try:
            return self.create(self.channel_path("addresses"), Address, dict(body))
        except ItemError as error:
            digest = duplicate_address_hash(error)
            if digest is None:
                raise
            existing = self.find_address(digest)
            if existing is None:
                raise
            logger.info("address already existed in Omnitron; reusing pk %s", existing.pk)
            return existing

    # Locations, stores, cargos ------------------------------------------------------------

    def locations(self, kind: str, **filters: Any) -> Paginated[Location]:
        """``countries``/``cities``/``townships``/``districts`` with Django filters,
        e.g. ``code__exact="TR", is_active=True``; ``.one()`` when exactly one must match."""
        if kind not in LOCATION_KINDS:
            raise ValueError(f"unknown location kind {kind!r}")
        return self.list_of(self.channel_path(kind), Location, filters)

    def retail_stores(self, **filters: Any) -> Paginated[RetailStore]:
        return self.list_of(self.channel_path("retail_stores"), RetailStore, filters)

    def cargos(self) -> Paginated[Cargo]:
        return self.list_of(self.channel_path("cargos"), Cargo)

    def get_cargo(self, pk: int) -> Cargo:
        return self.get_one(self.channel_path("cargos", pk), Cargo)

    # Cancellations ------------------------------------------------------------------------

    def cancellation_reasons(self, **filters: Any) -> Paginated[CancellationReason]:
        path = self.channel_path("cancellation_reasons")
        return self.list_of(path, CancellationReason, filters)

    def cancellation_requests(self, **filters: Any) -> Paginated[CancellationRequest]:
        path = self.channel_path("cancellation_requests")
        return self.list_of(path, CancellationRequest, filters)

    def cancellation_request_updates(self) -> Paginated[CancellationRequest]:
        path = self.channel_path("cancellation_requests", "updates")
        return self.list_of(path, CancellationRequest)

    def create_cancellation_request(self, body: Mapping[str, Any]) -> CancellationRequest:
        """Fields: order_item, reason, remote_id, description, cancellation_type."""
        path = self.channel_path("cancellation_requests")
        return self.create(path, CancellationRequest, dict(body))
