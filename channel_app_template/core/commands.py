"""Deprecated: the channel contract moved to :mod:`channel_app_template.channel` (issue 12).

Integrations written against this path keep working; each name warns when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core._moved import Moved

if TYPE_CHECKING:
    from channel_app_template.channel import (
        AttributeDto as AttributeDto,
    )
    from channel_app_template.channel import (
        BatchRequestResponseDto as BatchRequestResponseDto,
    )
    from channel_app_template.channel import (
        CancellationRequestDto as CancellationRequestDto,
    )
    from channel_app_template.channel import (
        CancelOrderDto as CancelOrderDto,
    )
    from channel_app_template.channel import (
        CategoryDto as CategoryDto,
    )
    from channel_app_template.channel import (
        CategoryTreeDto as CategoryTreeDto,
    )
    from channel_app_template.channel import (
        ChannelCancellationRequestDto as ChannelCancellationRequestDto,
    )
    from channel_app_template.channel import (
        ChannelConfig as ChannelConfig,
    )
    from channel_app_template.channel import (
        ChannelConfSchemaField as ChannelConfSchemaField,
    )
    from channel_app_template.channel import (
        ChannelCreateOrderDto as ChannelCreateOrderDto,
    )
    from channel_app_template.channel import (
        ChannelIntegration as ChannelIntegration,
    )
    from channel_app_template.channel import (
        ChannelUpdateOrderItemDto as ChannelUpdateOrderItemDto,
    )
    from channel_app_template.channel import (
        DeletedItem as DeletedItem,
    )
    from channel_app_template.channel import (
        ImageItem as ImageItem,
    )
    from channel_app_template.channel import (
        IntegrationContext as IntegrationContext,
    )
    from channel_app_template.channel import (
        MalformedEventDto as MalformedEventDto,
    )
    from channel_app_template.channel import (
        MalformedOrderDto as MalformedOrderDto,
    )
    from channel_app_template.channel import (
        OrderBatchRequestResponseDto as OrderBatchRequestResponseDto,
    )
    from channel_app_template.channel import (
        OrderUpdateItem as OrderUpdateItem,
    )
    from channel_app_template.channel import (
        PriceItem as PriceItem,
    )
    from channel_app_template.channel import (
        ProductBatchRequestResponseDto as ProductBatchRequestResponseDto,
    )
    from channel_app_template.channel import (
        ProductItem as ProductItem,
    )
    from channel_app_template.channel import (
        ProductResults as ProductResults,
    )
    from channel_app_template.channel import (
        RowResults as RowResults,
    )
    from channel_app_template.channel import (
        StockItem as StockItem,
    )
    from channel_app_template.channel import (
        Submitted as Submitted,
    )
    from channel_app_template.channel import (
        UnsupportedCommand as UnsupportedCommand,
    )
    from channel_app_template.channel import (
        conf_schema_fields as conf_schema_fields,
    )
    from channel_app_template.channel import (
        describe as describe,
    )
    from channel_app_template.channel.commands import (
        CATALOG_COMMANDS as CATALOG_COMMANDS,
    )
    from channel_app_template.channel.commands import (
        COMMANDS as COMMANDS,
    )
    from channel_app_template.channel.commands import (
        DERIVED_COMMANDS as DERIVED_COMMANDS,
    )
    from channel_app_template.channel.commands import (
        ORDER_COMMANDS as ORDER_COMMANDS,
    )
    from channel_app_template.channel.commands import (
        SETUP_COMMANDS as SETUP_COMMANDS,
    )
    from channel_app_template.errors import (
        ChannelAppError as ChannelAppError,
    )
    from channel_app_template.transport import (
        Limits as Limits,
    )
    from channel_app_template.transport import (
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
