"""The contract between the engine and a marketplace: :class:`ChannelIntegration`.

A marketplace integration is one subclass. It must implement one method,
:meth:`ChannelIntegration.check_connection`; every command (named as in Akinon's
``channel_app``: ``send_inserted_products``, ``check_products``, ...) is an optional
hook. A command the subclass does not override is *unsupported*: the task that needs it
reports so and does nothing, instead of crashing. Declare the ones you will never
support in ``unsupported`` with a reason, so operators see why. The exception is
``get_channel_conf_schema``: by default it is derived from ``config_model``.

Commands receive typed :mod:`~channel_app_template.channel` objects and return typed
results. A ``send_*`` command returns one result row per item (synchronous channels) or
:class:`~channel_app_template.channel.Submitted` with the marketplace's job id
(asynchronous channels); the matching ``check_*`` command then returns the rows, or
``None`` while the job is still running. Rows are matched back to Omnitron objects by
``sku``; an item without a row is recorded as failed, never as sent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from channel_app_template.channel._conf_schema import conf_schema_fields
from channel_app_template.channel._config import ChannelConfig, IntegrationContext
from channel_app_template.channel._dto import (
    AttributeDto,
    BatchRequestResponseDto,
    CancellationRequestDto,
    CancelOrderDto,
    CategoryDto,
    CategoryTreeDto,
    ChannelCancellationRequestDto,
    ChannelConfSchemaField,
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
from channel_app_template.channel.commands import COMMANDS, DERIVED_COMMANDS
from channel_app_template.errors import ChannelAppError

__all__ = [
    "ChannelIntegration",
    "ProductResults",
    "RowResults",
    "UnsupportedCommand",
    "describe",
]


class UnsupportedCommand(ChannelAppError):
    """The channel integration does not implement this command."""

    def __init__(self, command: str, integration: type[ChannelIntegration], why: str = "") -> None:
        reason = f": {why}" if why else ""
        super().__init__(
            f"{integration.__module__}.{integration.__name__} does not support {command!r}{reason}"
        )
        self.command = command


ProductResults = list[ProductBatchRequestResponseDto]
RowResults = list[BatchRequestResponseDto]


class _OrderCommands:
    """Order commands; mixed into :class:`ChannelIntegration` (kept apart for reading)."""

    def _unsupported(self, command: str) -> UnsupportedCommand:
        raise NotImplementedError

    def get_orders(self) -> Iterable[ChannelCreateOrderDto | MalformedOrderDto]:
        """New orders not acknowledged yet, oldest first. An order you cannot read is a
        :class:`MalformedOrderDto`, not an exception: the others still go through."""
        raise self._unsupported("get_orders")

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        """Tell the marketplace these orders are safely in Omnitron (idempotent)."""
        raise self._unsupported("acknowledge_orders")

    def send_updated_orders(
        self, items: Sequence[OrderUpdateItem]
    ) -> list[OrderBatchRequestResponseDto] | Submitted:
        """Status, tracking and invoice changes made in Omnitron; rows match by number."""
        raise self._unsupported("send_updated_orders")

    def check_orders(self, remote_batch_id: str) -> list[OrderBatchRequestResponseDto] | None:
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


class ChannelIntegration(_OrderCommands, ABC):
    """Base class of every marketplace integration (see the module docstring)."""

    config_model: ClassVar[type[ChannelConfig]] = ChannelConfig
    """The typed model of ``channel.conf``; validated before any command runs."""

    max_batch_size: ClassVar[int] = 500
    """The most items one ``send_*`` call receives."""

    unsupported: ClassVar[Mapping[str, str]] = {}
    """Commands this integration will never support, with the reason operators will see."""

    def __init__(self, config: ChannelConfig, context: IntegrationContext) -> None:
        self.config = config
        self.context = context
        self.log = context.logger

    @abstractmethod
    def check_connection(self) -> None:
        """Make one cheap authenticated call to the marketplace; raise if it fails."""

    def close(self) -> None:
        """Release connections; called when a task is done with the integration."""

    # --- Which commands exist ----------------------------------------------------

    @classmethod
    def supports(cls, command: str) -> bool:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        if command in cls.unsupported:
            return False
        if command in DERIVED_COMMANDS:
            return True
        return getattr(cls, command) is not getattr(ChannelIntegration, command)

    @classmethod
    def supported_commands(cls) -> list[str]:
        return [command for command in COMMANDS if cls.supports(command)]

    def _unsupported(self, command: str) -> UnsupportedCommand:
        return UnsupportedCommand(command, type(self), self.unsupported.get(command, ""))

    # --- Setup ----------------------------------------------------------------------

    def get_channel_conf_schema(self) -> Sequence[ChannelConfSchemaField]:
        """The settings form fields Omnitron should show for this channel: by default one
        per field of ``config_model`` (see :mod:`~channel_app_template.channel._conf_schema`;
        the base class's keys are the engine's own form fields). Override to change it."""
        if "get_channel_conf_schema" in self.unsupported:
            raise self._unsupported("get_channel_conf_schema")
        return conf_schema_fields(self.config_model, skip=ChannelConfig.model_fields)

    def get_category_tree_and_nodes(self) -> CategoryTreeDto:
        """The marketplace's whole category tree."""
        raise self._unsupported("get_category_tree_and_nodes")

    def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
        """One category's attributes and their allowed values."""
        raise self._unsupported("get_category_attributes")

    def get_attributes(self) -> list[AttributeDto]:
        """Attributes that apply to every category, for marketplaces that have them."""
        raise self._unsupported("get_attributes")

    # --- Products -------------------------------------------------------------------

    def send_inserted_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        """Create products the marketplace has never seen; idempotent by ``sku`` please."""
        raise self._unsupported("send_inserted_products")

    def send_updated_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        """Update products that have a ``remote_id`` on the marketplace."""
        raise self._unsupported("send_updated_products")

    def send_deleted_products(self, items: Sequence[DeletedItem]) -> ProductResults | Submitted:
        """Remove products deleted in Omnitron; rows are matched by ``remote_id``."""
        raise self._unsupported("send_deleted_products")

    def check_products(self, remote_batch_id: str) -> ProductResults | None:
        """Results of an asynchronous product job, or ``None`` while it runs."""
        raise self._unsupported("check_products")

    def check_deleted_products(self, remote_batch_id: str) -> ProductResults | None:
        raise self._unsupported("check_deleted_products")

    # --- Stocks, prices, images -------------------------------------------------------

    def send_inserted_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        raise self._unsupported("send_inserted_stocks")

    def send_updated_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        raise self._unsupported("send_updated_stocks")

    def check_stocks(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_stocks")

    def send_inserted_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        raise self._unsupported("send_inserted_prices")

    def send_updated_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        raise self._unsupported("send_updated_prices")

    def check_prices(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_prices")

    def send_inserted_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        """Each item holds all active images of one product, in display order."""
        raise self._unsupported("send_inserted_images")

    def send_updated_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        raise self._unsupported("send_updated_images")

    def check_images(self, remote_batch_id: str) -> RowResults | None:
        raise self._unsupported("check_images")


def describe(integration: type[ChannelIntegration]) -> dict[str, Any]:
    """Supported and unsupported commands, for ``channel-app`` and task summaries."""
    return {
        "integration": f"{integration.__module__}.{integration.__name__}",
        "supported": integration.supported_commands(),
        "unsupported": {
            c: integration.unsupported.get(c, "not implemented")
            for c in COMMANDS
            if not integration.supports(c)
        },
    }
