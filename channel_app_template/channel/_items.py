"""What the engine hands to a channel: :class:`SyncItem`, the Omnitron object as it was read,
its matching key (``sku``) and, where the channel already knows it, its ``remote_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from channel_app_template.akinon.models import (
    IntegrationAction,
    Order,
    Product,
    ProductDetails,
    ProductImage,
    ProductPrice,
    ProductStock,
)

__all__ = [
    "DeletedItem",
    "ImageItem",
    "OrderUpdateItem",
    "PriceItem",
    "ProductItem",
    "StockItem",
    "SyncItem",
]

T = TypeVar("T")


@dataclass(frozen=True)
class SyncItem(Generic[T]):
    """One Omnitron object on its way to the channel.

    ``sku`` is the matching key (the value at the channel's ``remote_id_attribute``) that
    result rows must carry; ``remote_id`` is the channel's id for the object, known for
    updates (and, for stocks, prices and images, the product's id on the channel).
    """

    obj: T
    sku: str
    remote_id: str | None = None
    product: Product | None = None
    details: ProductDetails | None = None
    extra: dict[str, Any] = field(default_factory=dict)


ProductItem = SyncItem[Product]
StockItem = SyncItem[ProductStock]
PriceItem = SyncItem[ProductPrice]
ImageItem = SyncItem[tuple[ProductImage, ...]]  # all active images of one product
DeletedItem = SyncItem[IntegrationAction]
OrderUpdateItem = SyncItem[Order]  # ``sku`` is the order number; ``extra["items"]`` its items
