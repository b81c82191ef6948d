"""Catalog routes: channel, catalog, content types, products, prices, stocks, images,
categories, attributes, integration actions, batch requests and error reports.

Each area is a private module with plain handler functions and a ``ROUTES`` table; ``ROUTES``
here is their concatenation, in the order the app installs them."""

from __future__ import annotations

from ..context import catalog_of
from ..route_table import Entry
from . import (
    _attributes,
    _batch_requests,
    _categories,
    _channel,
    _error_reports,
    _integration_actions,
    _prices_stocks_images,
    _products,
)
from ._ia_wire import content_types, ia_serializer
from ._mapping import map_product
from ._tree import add_node, delete_subtree, move_subtree, next_child_path, node_wire

__all__ = [
    "ROUTES",
    "add_node",
    "catalog_of",
    "content_types",
    "delete_subtree",
    "ia_serializer",
    "map_product",
    "move_subtree",
    "next_child_path",
    "node_wire",
]

ROUTES: list[Entry] = [
    *_channel.ROUTES,
    *_products.ROUTES,
    *_prices_stocks_images.ROUTES,
    *_categories.ROUTES,
    *_attributes.ROUTES,
    *_integration_actions.ROUTES,
    *_batch_requests.ROUTES,
    *_error_reports.ROUTES,
]
