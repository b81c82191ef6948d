"""Akinon's command names on top of the resource-shaped contract: the compatibility layer.

The engine, the conformance suite and the operator's tools call a channel by command name
(``send_inserted_products``...). Each such method here calls the contract's method that
serves it (:data:`~channel_app_template.channel.commands.SERVED_BY`). An integration written
before the contract overrides these names directly and keeps working: its override is
what the callers reach.
"""

from __future__ import annotations

from collections.abc import Sequence

from channel_app_template.channel._dto import Submitted
from channel_app_template.channel._items import (
    DeletedItem,
    ImageItem,
    OrderUpdateItem,
    PriceItem,
    ProductItem,
    StockItem,
)
from channel_app_template.channel._resources import (
    CatalogMethods,
    OrderMethods,
    OrderResults,
    ProductResults,
    RowResults,
)

__all__ = ["AkinonCommands"]


class AkinonCommands(CatalogMethods, OrderMethods):
    """The commands whose name is not the method serving them (the others share it)."""

    def send_inserted_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        return self.send_products(items)

    def send_updated_products(self, items: Sequence[ProductItem]) -> ProductResults | Submitted:
        return self.update_products(items)

    def send_deleted_products(self, items: Sequence[DeletedItem]) -> ProductResults | Submitted:
        return self.delete_products(items)

    def send_inserted_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        return self.send_stocks(items)

    def send_updated_stocks(self, items: Sequence[StockItem]) -> RowResults | Submitted:
        return self.update_stocks(items)

    def send_inserted_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        return self.send_prices(items)

    def send_updated_prices(self, items: Sequence[PriceItem]) -> RowResults | Submitted:
        return self.update_prices(items)

    def send_inserted_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        return self.send_images(items)

    def send_updated_images(self, items: Sequence[ImageItem]) -> RowResults | Submitted:
        return self.update_images(items)

    def send_updated_orders(self, items: Sequence[OrderUpdateItem]) -> OrderResults | Submitted:
        return self.update_orders(items)
