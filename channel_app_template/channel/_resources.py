"""The methods a channel writes, one per resource it handles; mixed into the base class.

A ``send_*`` method receives a batch of typed items and returns one result row per item
(synchronous channels) or :class:`Submitted` with the marketplace's job id (asynchronous
channels, whose ``check_*`` method then returns the rows, or ``None`` while the job runs).
Rows are matched back by ``sku`` (deletions: ``remote_id``; orders: ``number``); an item
without a row is recorded as failed, never as sent. Orders and order events are ``get_*``
and ``acknowledge_*`` pairs. A method the channel does not write raises
:class:`UnsupportedCommand`, naming the Akinon command it serves (the operator's vocabulary).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar, cast

from channel_app_template.channel._dto import (
    BatchRequestResponseDto,
    CancellationRequestDto,
    CancelOrderDto,
    ChannelCancellationRequestDto,
    ChannelCreateOrderDto,
    ChannelUpdateOrderItemDto,
    MalformedEventDto,
    MalformedOrderDto,
    OrderBatchRequestResponseDto,
    ProductBatchRequestResponseDto,
    Submitted,
)
from channel_app_template.channel._items import (
    DeletedItem,
    ImageItem,
    OrderUpdateItem,
    PriceItem,
    ProductItem,
    StockItem,
)
from channel_app_template.errors import ChannelAppError

__all__ = [
    "STUBS",
    "CatalogMethods",
    "OrderMethods",
    "OrderResults",
    "ProductResults",
    "RowResults",
    "UnsupportedCommand",
    "not_implemented",
]

ProductResults = list[ProductBatchRequestResponseDto]
RowResults = list[BatchRequestResponseDto]
OrderResults = list[OrderBatchRequestResponseDto]
F = TypeVar("F", bound=Callable[..., Any])


class UnsupportedCommand(ChannelAppError):
    """The channel integration does not implement this command."""

    def __init__(self, command: str, integration: type[object], why: str = "") -> None:
        reason = f": {why}" if why else ""
        super().__init__(
            f"{integration.__module__}.{integration.__name__} does not support {command!r}{reason}"
        )
        self.command = command


STUBS: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()
"""Methods marked :func:`not_implemented`."""


def not_implemented(method: F) -> F:
    """Mark a stub the scaffold wrote: it stays unsupported (with the class's
    ``not_implemented_reason``) and raises :class:`UnsupportedCommand` if called, until its
    body is written and this line deleted."""

    @functools.wraps(method)
    def stub(self: _Stubs, *args: Any, **kwargs: Any) -> Any:
        raise self._unsupported(method.__name__)

    STUBS.add(stub)
    return cast(F, stub)


class _Stubs:
    upserts: ClassVar[bool]

    def _unsupported(self, command: str) -> UnsupportedCommand:
        raise NotImplementedError


class CatalogMethods(_Stubs):
    """Products, stocks, prices and images, Omnitron -> marketplace."""

    def send_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        """New products (``remote_id`` None) and, with ``upserts``, changed ones too.
        ``item.details`` holds their price, stock, images and mapped attributes."""
        raise self._unsupported("send_inserted_products")

    def update_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        """Changed products (with their ``remote_id``); with ``upserts``: ``send_products``."""
        if self.upserts:
            return self.send_products(items)
        raise self._unsupported("send_updated_products")

    def delete_products(self, items: Sequence[DeletedItem]) -> ProductResults | Submitted:
        """Products deleted in Omnitron; rows are matched by ``remote_id``."""
        raise self._unsupported("send_deleted_products")

    def check_products(self, remote_batch_id: str) -> ProductResults | None:
        """The rows of a product job, or ``None`` while it runs."""
        raise self._unsupported("check_products")

    def check_deleted_products(self, remote_batch_id: str) -> ProductResults | None:
        raise self._unsupported("check_deleted_products")

    def send_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        """Stocks of products the channel has (``remote_id`` is the product's)."""
        raise self._unsupported("send_inserted_stocks")

    def update_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        if self.upserts:
            return self.send_stocks(items)
        raise self._unsupported("send_updated_stocks")

    def check_stocks(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_stocks")

    def send_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        raise self._unsupported("send_inserted_prices")

    def update_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        if self.upserts:
            return self.send_prices(items)
        raise self._unsupported("send_updated_prices")

    def check_prices(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_prices")

    def send_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        """Each item holds all active images of one product, in display order."""
        raise self._unsupported("send_inserted_images")

    def update_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        if self.upserts:
            return self.send_images(items)
        raise self._unsupported("send_updated_images")

    def check_images(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_images")


class OrderMethods(_Stubs):
    """Orders and their events, both ways."""

    def get_orders(self) -> Iterable[ChannelCreateOrderDto | MalformedOrderDto]:
        """New orders not acknowledged yet, oldest first. An order you cannot read is a
        :class:`MalformedOrderDto`, not an exception: the others still go through."""
        raise self._unsupported("get_orders")

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        """Tell the marketplace these orders are safely in Omnitron (idempotent)."""
        raise self._unsupported("acknowledge_orders")

    def update_orders(self, items: Sequence[OrderUpdateItem]) -> OrderResults | Submitted:
        """Status, tracking and invoice changes made in Omnitron; rows match by number."""
        raise self._unsupported("send_updated_orders")

    def check_orders(self, remote_batch_id: str) -> OrderResults | None:
        raise self._unsupported("check_orders")

    def get_updated_order_items(self) -> Iterable[ChannelUpdateOrderItemDto | MalformedEventDto]:
        """Line changes not acknowledged yet. An event you cannot read is a
        :class:`MalformedEventDto` (keyed by its event id), not an exception."""
        raise self._unsupported("get_updated_order_items")

    def acknowledge_order_item_updates(self, event_ids: Sequence[str]) -> None:
        raise self._unsupported("acknowledge_order_item_updates")

    def get_cancelled_orders(self) -> Iterable[CancelOrderDto | MalformedEventDto]:
        raise self._unsupported("get_cancelled_orders")

    def acknowledge_cancelled_orders(self, event_ids: Sequence[str]) -> None:
        raise self._unsupported("acknowledge_cancelled_orders")

    def get_cancellation_requests(self) -> Iterable[CancellationRequestDto | MalformedEventDto]:
        raise self._unsupported("get_cancellation_requests")

    def acknowledge_cancellation_requests(self, remote_ids: Sequence[str]) -> None:
        raise self._unsupported("acknowledge_cancellation_requests")

    def update_cancellation_request(
        self, request: ChannelCancellationRequestDto
    ) -> BatchRequestResponseDto:
        """Send Omnitron's decision (approved, rejected...) on a cancellation request."""
        raise self._unsupported("update_cancellation_request")
