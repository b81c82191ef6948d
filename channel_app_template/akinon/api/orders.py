"""Orders, their items (one per unit) and the cargo companies an order names.

Creating an order is the one call that must never happen twice: :meth:`OrdersApi.create`
is sent exactly once; when its fate is unknown it raises :class:`AmbiguousWriteError` and
the caller looks the order up with :meth:`OrdersApi.by_number` before deciding anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import Cargo, Order, OrderItem
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated

__all__ = ["OrdersApi"]


class OrdersApi(Area):
    def create(self, order: Mapping[str, Any], order_items: Sequence[Mapping[str, Any]]) -> Order:
        """POST ``create_orders/`` once. On :class:`AmbiguousWriteError` look it up by number."""
        body = {"order": dict(order), "order_item": [dict(item) for item in order_items]}
        return self._create(self._path("create_orders"), Order, body)

    def by_number(self, number: str) -> Order | None:
        """The channel's order with this number, or ``None`` (the duplicate check)."""
        params = {"number": number, "channel_id": self.channel_id}
        return self._list(self._path("orders"), Order, params).first()

    def find(self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Paginated[Order]:
        return self._list(self._path("orders"), Order, filters, page_size=page_size)

    def updates(self, page_size: int = DEFAULT_PAGE_SIZE) -> Paginated[Order]:
        """Orders changed in Omnitron since last sent to the channel."""
        return self._list(self._path("orders", "updates"), Order, page_size=page_size)

    def cancel(
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
        data = self.http.post(self._path("orders", order_pk, "cancel"), body)
        return data if isinstance(data, dict) else {}

    # Order items --------------------------------------------------------------------------

    def items(self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Paginated[OrderItem]:
        """E.g. ``order=<pk>`` or ``order__in=1,2`` (one request for many orders)."""
        params = {"sort": "id", **filters}
        return self._list(self._path("order_items"), OrderItem, params, page_size=page_size)

    def item(self, pk: int) -> OrderItem:
        return self._get(self._path("order_items", pk), OrderItem)

    def update_item(self, pk: int, changes: Mapping[str, Any]) -> OrderItem:
        """PATCH only the fields that carry a value (as Akinon's clients do)."""
        body = {name: value for name, value in changes.items() if value not in (None, "")}
        return self._update(self._path("order_items", pk), OrderItem, body)

    # Cargo companies ----------------------------------------------------------------------

    def cargos(self) -> Paginated[Cargo]:
        return self._list(self._path("cargos"), Cargo)
