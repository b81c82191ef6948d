"""Deprecated: the DTOs and items moved to :mod:`channel_app_template.channel` (issue 12).

Integrations written against this path keep working; each name warns when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channel_app_template.core._moved import Moved

if TYPE_CHECKING:
    from channel_app_template.akinon.models import (
        CategoryNode as CategoryNode,
    )
    from channel_app_template.akinon.models import (
        FailedReasonType as FailedReasonType,
    )
    from channel_app_template.akinon.models import (
        IntegrationAction as IntegrationAction,
    )
    from channel_app_template.akinon.models import (
        MappedProduct as MappedProduct,
    )
    from channel_app_template.akinon.models import (
        Order as Order,
    )
    from channel_app_template.akinon.models import (
        Product as Product,
    )
    from channel_app_template.akinon.models import (
        ProductDetails as ProductDetails,
    )
    from channel_app_template.akinon.models import (
        ProductImage as ProductImage,
    )
    from channel_app_template.akinon.models import (
        ProductPrice as ProductPrice,
    )
    from channel_app_template.akinon.models import (
        ProductStock as ProductStock,
    )
    from channel_app_template.channel import (
        MAX_AMOUNT as MAX_AMOUNT,
    )
    from channel_app_template.channel import (
        MAX_CODE_LENGTH as MAX_CODE_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_EMAIL_LENGTH as MAX_EMAIL_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_EXTRA_FIELD_CHARS as MAX_EXTRA_FIELD_CHARS,
    )
    from channel_app_template.channel import (
        MAX_ID_LENGTH as MAX_ID_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_MESSAGE_LENGTH as MAX_MESSAGE_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_NAME_LENGTH as MAX_NAME_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_ORDER_LINES as MAX_ORDER_LINES,
    )
    from channel_app_template.channel import (
        MAX_ORDER_NOTES_LENGTH as MAX_ORDER_NOTES_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_ORDER_NUMBER_LENGTH as MAX_ORDER_NUMBER_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_PHONE_LENGTH as MAX_PHONE_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_RATE as MAX_RATE,
    )
    from channel_app_template.channel import (
        MAX_RAW_LENGTH as MAX_RAW_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_TEXT_LENGTH as MAX_TEXT_LENGTH,
    )
    from channel_app_template.channel import (
        MAX_TRACKING_LENGTH as MAX_TRACKING_LENGTH,
    )
    from channel_app_template.channel import (
        ORDER_CURRENCIES as ORDER_CURRENCIES,
    )
    from channel_app_template.channel import (
        ORDER_ITEM_STATUSES as ORDER_ITEM_STATUSES,
    )
    from channel_app_template.channel import (
        AddressDto as AddressDto,
    )
    from channel_app_template.channel import (
        AttributeDto as AttributeDto,
    )
    from channel_app_template.channel import (
        AttributeValueDto as AttributeValueDto,
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
        CategoryAttributeDto as CategoryAttributeDto,
    )
    from channel_app_template.channel import (
        CategoryAttributeValueDto as CategoryAttributeValueDto,
    )
    from channel_app_template.channel import (
        CategoryDto as CategoryDto,
    )
    from channel_app_template.channel import (
        CategoryNodeDto as CategoryNodeDto,
    )
    from channel_app_template.channel import (
        CategoryTreeDto as CategoryTreeDto,
    )
    from channel_app_template.channel import (
        ChannelCancellationRequestDto as ChannelCancellationRequestDto,
    )
    from channel_app_template.channel import (
        ChannelConfSchemaField as ChannelConfSchemaField,
    )
    from channel_app_template.channel import (
        ChannelCreateOrderDto as ChannelCreateOrderDto,
    )
    from channel_app_template.channel import (
        ChannelOrderDto as ChannelOrderDto,
    )
    from channel_app_template.channel import (
        ChannelUpdateOrderItemDto as ChannelUpdateOrderItemDto,
    )
    from channel_app_template.channel import (
        ConfDataType as ConfDataType,
    )
    from channel_app_template.channel import (
        CustomerDto as CustomerDto,
    )
    from channel_app_template.channel import (
        DeletedItem as DeletedItem,
    )
    from channel_app_template.channel import (
        Dto as Dto,
    )
    from channel_app_template.channel import (
        EventDto as EventDto,
    )
    from channel_app_template.channel import (
        ImageItem as ImageItem,
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
        OrderItemDto as OrderItemDto,
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
        ResponseStatus as ResponseStatus,
    )
    from channel_app_template.channel import (
        ResultDto as ResultDto,
    )
    from channel_app_template.channel import (
        StockItem as StockItem,
    )
    from channel_app_template.channel import (
        Submitted as Submitted,
    )
    from channel_app_template.channel import (
        SyncItem as SyncItem,
    )
    from channel_app_template.channel._dto import (
        Code as Code,
    )
    from channel_app_template.channel._dto import (
        Currency as Currency,
    )
    from channel_app_template.channel._dto import (
        ExtraField as ExtraField,
    )
    from channel_app_template.channel._dto import (
        Id as Id,
    )
    from channel_app_template.channel._dto import (
        ItemStatus as ItemStatus,
    )
    from channel_app_template.channel._dto import (
        Money as Money,
    )
    from channel_app_template.channel._dto import (
        Quantity as Quantity,
    )
    from channel_app_template.channel._dto import (
        Rate as Rate,
    )
    from channel_app_template.order_bounds import (
        MAX_LINE_QUANTITY as MAX_LINE_QUANTITY,
    )
    from channel_app_template.order_bounds import (
        MAX_ORDER_UNITS as MAX_ORDER_UNITS,
    )

__all__ = [
    "MAX_AMOUNT",
    "MAX_CODE_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_EXTRA_FIELD_CHARS",
    "MAX_ID_LENGTH",
    "MAX_LINE_QUANTITY",
    "MAX_MESSAGE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_ORDER_LINES",
    "MAX_ORDER_NOTES_LENGTH",
    "MAX_ORDER_NUMBER_LENGTH",
    "MAX_ORDER_UNITS",
    "MAX_PHONE_LENGTH",
    "MAX_RATE",
    "MAX_RAW_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TRACKING_LENGTH",
    "ORDER_CURRENCIES",
    "ORDER_ITEM_STATUSES",
    "AddressDto",
    "AttributeDto",
    "AttributeValueDto",
    "BatchRequestResponseDto",
    "CancelOrderDto",
    "CancellationRequestDto",
    "CategoryAttributeDto",
    "CategoryAttributeValueDto",
    "CategoryDto",
    "CategoryNode",
    "CategoryNodeDto",
    "CategoryTreeDto",
    "ChannelCancellationRequestDto",
    "ChannelConfSchemaField",
    "ChannelCreateOrderDto",
    "ChannelOrderDto",
    "ChannelUpdateOrderItemDto",
    "Code",
    "ConfDataType",
    "Currency",
    "CustomerDto",
    "DeletedItem",
    "Dto",
    "EventDto",
    "ExtraField",
    "FailedReasonType",
    "Id",
    "ImageItem",
    "IntegrationAction",
    "ItemStatus",
    "MalformedEventDto",
    "MalformedOrderDto",
    "MappedProduct",
    "Money",
    "Order",
    "OrderBatchRequestResponseDto",
    "OrderItemDto",
    "OrderUpdateItem",
    "PriceItem",
    "Product",
    "ProductBatchRequestResponseDto",
    "ProductDetails",
    "ProductImage",
    "ProductItem",
    "ProductPrice",
    "ProductStock",
    "Quantity",
    "Rate",
    "ResponseStatus",
    "ResultDto",
    "StockItem",
    "Submitted",
    "SyncItem",
]

_MOVED = Moved(
    __name__,
    {
        "channel_app_template.channel": (
            "AddressDto",
            "AttributeDto",
            "AttributeValueDto",
            "BatchRequestResponseDto",
            "CancelOrderDto",
            "CancellationRequestDto",
            "CategoryAttributeDto",
            "CategoryAttributeValueDto",
            "CategoryDto",
            "CategoryNodeDto",
            "CategoryTreeDto",
            "ChannelCancellationRequestDto",
            "ChannelConfSchemaField",
            "ChannelCreateOrderDto",
            "ChannelOrderDto",
            "ChannelUpdateOrderItemDto",
            "ConfDataType",
            "CustomerDto",
            "DeletedItem",
            "Dto",
            "EventDto",
            "ImageItem",
            "MAX_AMOUNT",
            "MAX_CODE_LENGTH",
            "MAX_EMAIL_LENGTH",
            "MAX_EXTRA_FIELD_CHARS",
            "MAX_ID_LENGTH",
            "MAX_MESSAGE_LENGTH",
            "MAX_NAME_LENGTH",
            "MAX_ORDER_LINES",
            "MAX_ORDER_NOTES_LENGTH",
            "MAX_ORDER_NUMBER_LENGTH",
            "MAX_PHONE_LENGTH",
            "MAX_RATE",
            "MAX_RAW_LENGTH",
            "MAX_TEXT_LENGTH",
            "MAX_TRACKING_LENGTH",
            "MalformedEventDto",
            "MalformedOrderDto",
            "ORDER_CURRENCIES",
            "ORDER_ITEM_STATUSES",
            "OrderBatchRequestResponseDto",
            "OrderItemDto",
            "OrderUpdateItem",
            "PriceItem",
            "ProductBatchRequestResponseDto",
            "ProductItem",
            "ResponseStatus",
            "ResultDto",
            "StockItem",
            "Submitted",
            "SyncItem",
        ),
        "channel_app_template.channel._dto": (
            "Code",
            "Currency",
            "ExtraField",
            "Id",
            "ItemStatus",
            "Money",
            "Quantity",
            "Rate",
        ),
        "channel_app_template.akinon.models": (
            "CategoryNode",
            "FailedReasonType",
            "IntegrationAction",
            "MappedProduct",
            "Order",
            "Product",
            "ProductDetails",
            "ProductImage",
            "ProductPrice",
            "ProductStock",
        ),
        "channel_app_template.order_bounds": (
            "MAX_LINE_QUANTITY",
            "MAX_ORDER_UNITS",
        ),
    },
)


def __getattr__(name: str) -> Any:
    return _MOVED(name)
