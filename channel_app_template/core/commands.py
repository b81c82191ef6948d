"""Deprecated: the channel contract moved to :mod:`channel_app_template.channel` (issue 12).

Integrations written against this path keep working; each name warns when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core._moved import Moved

if TYPE_CHECKING:
    from channel_app_template.channel import (
        AttributeDto as AttributeDto,
        BatchRequestResponseDto as BatchRequestResponseDto,
        CancellationRequestDto as CancellationRequestDto,
        CancelOrderDto as CancelOrderDto,
        CategoryDto as CategoryDto,
        CategoryTreeDto as CategoryTreeDto,
        ChannelCancellationRequestDto as ChannelCancellationRequestDto,
        ChannelConfig as ChannelConfig,
        ChannelConfSchemaField as ChannelConfSchemaField,
        ChannelCreateOrderDto as ChannelCreateOrderDto,
        ChannelIntegration as ChannelIntegration,
        ChannelUpdateOrderItemDto as ChannelUpdateOrderItemDto,
        DeletedItem as DeletedItem,
        ImageItem as ImageItem,
        IntegrationContext as IntegrationContext,
        MalformedEventDto as MalformedEventDto,
        MalformedOrderDto as MalformedOrderDto,
        OrderBatchRequestResponseDto as OrderBatchRequestResponseDto,
        OrderUpdateItem as OrderUpdateItem,
        PriceItem as PriceItem,
        ProductBatchRequestResponseDto as ProductBatchRequestResponseDto,
        ProductItem as ProductItem,
        ProductResults as ProductResults,
        RowResults as RowResults,
        StockItem as StockItem,
        Submitted as Submitted,
        UnsupportedCommand as UnsupportedCommand,
        conf_schema_fields as conf_schema_fields,
        describe as describe,
    )
    from channel_app_template.channel.commands import (
        CATALOG_COMMANDS as CATALOG_COMMANDS,
        COMMANDS as COMMANDS,
        DERIVED_COMMANDS as DERIVED_COMMANDS,
        ORDER_COMMANDS as ORDER_COMMANDS,
        SETUP_COMMANDS as SETUP_COMMANDS,
    )
    from channel_app_template.errors import (
        ChannelAppError as ChannelAppError,
    )
    from channel_app_template.transport import (
        Limits as Limits,
        Timeouts as Timeouts,
    )

__all__ = [
    "CATALOG_COMMANDS",
    "COMMANDS",
    "DERIVED_COMMANDS",
    "ORDER_COMMANDS",
    "SETUP_COMMANDS",
    "AttributeDto",
    "BatchRequestResponseDto",
    "CancelOrderDto",
    "CancellationRequestDto",
    "CategoryDto",
    "CategoryTreeDto",
    "ChannelAppError",
    "ChannelCancellationRequestDto",
    "ChannelConfSchemaField",
    "ChannelConfig",
    "ChannelCreateOrderDto",
    "ChannelIntegration",
    "ChannelUpdateOrderItemDto",
    "DeletedItem",
    "ImageItem",
    "IntegrationContext",
    "Limits",
    "MalformedEventDto",
    "MalformedOrderDto",
    "OrderBatchRequestResponseDto",
    "OrderUpdateItem",
    "PriceItem",
    "ProductBatchRequestResponseDto",
    "ProductItem",
    "ProductResults",
    "RowResults",
    "StockItem",
    "Submitted",
    "Timeouts",
    "UnsupportedCommand",
    "conf_schema_fields",
    "describe",
]

_MOVED = Moved(
    __name__,
    {
        "channel_app_template.channel": (
            "AttributeDto",
            "BatchRequestResponseDto",
            "CancelOrderDto",
            "CancellationRequestDto",
            "CategoryDto",
            "CategoryTreeDto",
            "ChannelCancellationRequestDto",
            "ChannelConfSchemaField",
            "ChannelConfig",
            "ChannelCreateOrderDto",
            "ChannelIntegration",
            "ChannelUpdateOrderItemDto",
            "DeletedItem",
            "ImageItem",
            "IntegrationContext",
            "MalformedEventDto",
            "MalformedOrderDto",
            "OrderBatchRequestResponseDto",
            "OrderUpdateItem",
            "PriceItem",
            "ProductBatchRequestResponseDto",
            "ProductItem",
            "ProductResults",
            "RowResults",
            "StockItem",
            "Submitted",
            "UnsupportedCommand",
            "conf_schema_fields",
            "describe",
        ),
        "channel_app_template.channel.commands": (
            "CATALOG_COMMANDS",
            "COMMANDS",
            "DERIVED_COMMANDS",
            "ORDER_COMMANDS",
            "SETUP_COMMANDS",
        ),
        "channel_app_template.errors": ("ChannelAppError",),
        "channel_app_template.transport": (
            "Limits",
            "Timeouts",
        ),
    },
)


def __getattr__(name: str) -> Any:
    return _MOVED(name)
