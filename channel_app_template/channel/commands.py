"""The Akinon command names: the operator's vocabulary (task names, conformance check names)
and what a channel integration may implement. Named as in Akinon's ``channel_app``.
"""

from __future__ import annotations

__all__ = [
    "CATALOG_COMMANDS",
    "COMMANDS",
    "DERIVED_COMMANDS",
    "ORDER_COMMANDS",
    "SETUP_COMMANDS",
]

SETUP_COMMANDS = (
    "get_channel_conf_schema",
    "get_category_tree_and_nodes",
    "get_category_attributes",
    "get_attributes",
)
CATALOG_COMMANDS = (
    "send_inserted_products",
    "send_updated_products",
    "send_deleted_products",
    "check_products",
    "check_deleted_products",
    "send_inserted_stocks",
    "send_updated_stocks",
    "check_stocks",
    "send_inserted_prices",
    "send_updated_prices",
    "check_prices",
    "send_inserted_images",
    "send_updated_images",
    "check_images",
)
ORDER_COMMANDS = (
    "get_orders",
    "acknowledge_orders",
    "send_updated_orders",
    "check_orders",
    "get_updated_order_items",
    "acknowledge_order_item_updates",
    "get_cancelled_orders",
    "acknowledge_cancelled_orders",
    "get_cancellation_requests",
    "acknowledge_cancellation_requests",
    "update_cancellation_request",
)
COMMANDS = SETUP_COMMANDS + CATALOG_COMMANDS + ORDER_COMMANDS
DERIVED_COMMANDS = frozenset({"get_channel_conf_schema"})
"""Commands the base class implements (from the config model): supported unless declared
in ``unsupported``, whether or not a subclass overrides them."""
