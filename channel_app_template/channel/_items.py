"""What the engine hands to a channel: one typed item class per resource.

Every item carries the Omnitron object as it was read (``obj``), its matching key (``sku``)
and, where the channel already knows it, its ``remote_id``. What else a resource needs is a
typed field of its own class (a stock's ``stock_list``, an order's ``items``...).

``extra`` is the dict those fields lived in before: kept filled (and accepted when building
an item) for integrations written against it, never needed by new code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Generic, TypeVar

from channel_app_template.akinon.models import (
    IntegrationAction,
    Order,
    OrderItem,
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
    """The product a stock, price or image belongs to."""
    details: ProductDetails | None = None
    """A product's price, stock, images and mapped category and attributes."""
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Deprecated: read the typed fields of the item's class instead."""

    typed: ClassVar[tuple[str, ...]] = ()
    """The class's own fields, mirrored into ``extra`` for integrations that read it."""

    def __post_init__(self) -> None:
        given = dict(self.extra)
        for each in fields(self):
            if each.name in self.typed:
                empty = each.default_factory() if callable(each.default_factory) else each.default
                if each.name in given and getattr(self, each.name) == empty:
                    object.__setattr__(self, each.name, given[each.name])
                given[each.name] = getattr(self, each.name)
        object.__setattr__(self, "extra", given)


@dataclass(frozen=True)
class ProductItem(SyncItem[Product]):
    """A product; ``details`` holds what the marketplace payload needs besides it."""


@dataclass(frozen=True)
class StockItem(SyncItem[ProductStock]):
    """A stock row; ``remote_id`` is its product's id on the channel."""

    stock_list: int | None = None
    """The Omnitron stock list it was read from."""
    typed: ClassVar[tuple[str, ...]] = ("stock_list",)


@dataclass(frozen=True)
class PriceItem(SyncItem[ProductPrice]):
    """A price row; ``remote_id`` is its product's id on the channel."""

    price_list: int | None = None
    """The Omnitron price list it was read from."""
    typed: ClassVar[tuple[str, ...]] = ("price_list",)


@dataclass(frozen=True)
class ImageItem(SyncItem[tuple[ProductImage, ...]]):
    """All active images of one product, in display order."""


@dataclass(frozen=True)
class DeletedItem(SyncItem[IntegrationAction]):
    """A product deleted in Omnitron; matched by ``remote_id`` (``sku`` may be empty)."""


@dataclass(frozen=True)
class OrderUpdateItem(SyncItem[Order]):
    """An order changed in Omnitron; ``sku`` is its number."""

    items: tuple[OrderItem, ...] = ()
    """The order's items (one per unit), as Omnitron has them now."""
    item_remote_ids: Mapping[int, str] = field(default_factory=dict)
    """Order item pk -> the line id on the marketplace."""
    typed: ClassVar[tuple[str, ...]] = ("items", "item_remote_ids")
