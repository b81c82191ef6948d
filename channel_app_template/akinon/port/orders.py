"""What order intake and order events need from Omnitron: orders created exactly once,
their customers and addresses, locations and cargos, item updates, cancellations and
cancellation requests.

Every create here is either looked up before it is repeated or safe to repeat: a create
whose outcome stays unknown raises :class:`RetryLater`, and the next run looks first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from channel_app_template.akinon.api import chunked
from channel_app_template.akinon.models import (
    CancellationRequest,
    Cargo,
    Customer,
    CustomerIdentifierField,
    Location,
    Order,
    OrderItem,
)
from channel_app_template.akinon.port.sync_state import SyncStatePort
from channel_app_template.errors import AmbiguousWriteError, ItemError, RetryLater

__all__ = ["OrdersPort"]

NUMBERS_PER_LOOKUP = 100  # order numbers per ``number__in`` request


class OrdersPort(SyncStatePort):
    # --- Orders ------------------------------------------------------------------------

    def orders_by_number(self, numbers: Sequence[str]) -> dict[str, Order]:
        """The channel's orders with these numbers (one request per hundred numbers)."""
        found: dict[str, Order] = {}
        for part in chunked(numbers, NUMBERS_PER_LOOKUP):
            query = self._api().orders.find(
                page_size=len(part), number__in=",".join(part), channel_id=self.channel_id
            )
            for order in query:
                found.setdefault(order.number, order)
        return found

    def order_by_number(self, number: str) -> Order | None:
        return self._api().orders.by_number(number)

    def create_order(self, order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> Order:
        """Create the order with its items (one per unit), exactly once: after a lost answer
        or an "already exists" refusal the order is looked up by number, never re-sent."""
        api = self._api().orders
        number = str(order["number"])
        try:
            return api.create(order, items)
        except AmbiguousWriteError:
            found = api.by_number(number)
            if found is not None:
                return found
            raise RetryLater(
                "Omnitron may have created the order; the next run looks it up before anything else"
            ) from None
        except ItemError as error:
            if "already exists" in str(error.payload):
                found = api.by_number(number)
                if found is not None:
                    return found
            raise

    def cargos(self) -> list[Cargo]:
        """Every cargo company of the channel."""
        return list(self._api().orders.cargos())

    # --- Customers, addresses, locations ---------------------------------------------------

    def customers_by(
        self, field: CustomerIdentifierField, identifiers: Sequence[str]
    ) -> dict[str, Customer]:
        """The channel's customers with these emails or phone numbers (one request per
        hundred), by identifier; identifiers holding a comma are not looked up here."""
        found: dict[str, Customer] = {}
        wanted = sorted({i for i in identifiers if i and "," not in i})
        for part in chunked(wanted, NUMBERS_PER_LOOKUP):
            for customer in self._api().customers.find_many(field, part):
                key = getattr(customer, field.value, None)
                if isinstance(key, str) and key in part:
                    found.setdefault(key, customer)
        return found

    def customer(
        self,
        field: CustomerIdentifierField,
        identifier: str,
        body: Mapping[str, Any],
        *,
        known_absent: bool = False,
    ) -> Customer:
        """The channel's customer with this email or phone number; created from ``body``
        when there is none (after a lost answer, looked up again, never created twice).
        ``known_absent``: a bulk look-up (:meth:`customers_by`) just found none, so the
        single look-up is skipped."""
        api = self._api().customers
        found = None if known_absent else api.find(field, identifier)
        if found is not None:
            return found
        try:
            return api.create(body)
        except AmbiguousWriteError:
            found = api.find(field, identifier)
            if found is None:
                raise RetryLater("the customer may have been created; retried next run") from None
            return found

    def create_address(self, body: Mapping[str, Any]) -> int:
        """The address's pk; an address Omnitron has already (its duplicate check), or one
        whose answer was lost and is sent again, is the existing one."""
        api = self._api().customers
        try:
            created = api.create_address(body)
        except AmbiguousWriteError:
            created = api.create_address(body)  # a repeat is safe: Omnitron answers duplicates
        return int(created.pk or 0)

    def locations(self, kind: str, **filters: Any) -> list[Location]:
        """Up to two places of ``kind`` matching the filters (two tell "one" from "several")."""
        return self._api().locations.find(kind, **filters).resized(2).first_page()

    def report_unknown_location(self, kind: str, body: Mapping[str, Any]) -> None:
        """An address error report: the mapping task a merchant resolves in Omnitron."""
        self._api().reports.create_address(kind, body)

    # --- Order items and cancellations -------------------------------------------------

    def order_item(self, pk: int) -> OrderItem:
        return self._api().orders.item(pk)

    def update_order_item(self, pk: int, changes: Mapping[str, Any]) -> OrderItem:
        """Set the fields that carry a value (absolute values: safe to repeat)."""
        return self._api().orders.update_item(pk, changes)

    def cancel_order(
        self,
        order_pk: int,
        items: Sequence[int],
        reasons: Mapping[int, int],
        forced_refund_amount: str | None = None,
    ) -> None:
        """Cancel these items (unit pks) of the order; never repeated blindly: after a lost
        answer the caller counts again what is cancelled."""
        self._api().orders.cancel(order_pk, items, reasons, forced_refund_amount)

    def cancellation_request(self, remote_id: str) -> CancellationRequest | None:
        """The cancellation request the channel knows as ``remote_id``, if Omnitron has it."""
        return self._api().cancellations.find(remote_id=remote_id).first()

    def create_cancellation_request(self, body: Mapping[str, Any]) -> CancellationRequest:
        """Create it once: after a lost answer it is looked up by its ``remote_id``."""
        api = self._api().cancellations
        try:
            return api.create(body)
        except AmbiguousWriteError:
            found = self.cancellation_request(str(body["remote_id"]))
            if found is None:
                raise RetryLater("the request may have been created; retried next run") from None
            return found
