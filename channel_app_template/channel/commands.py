"""The Akinon command names: the operator's vocabulary (task names, conformance check names),
named as in Akinon's ``channel_app``, and which method of the channel contract serves each.
"""

from __future__ import annotations

__all__ = [
    "CATALOG_COMMANDS",
    "COMMANDS",
    "DERIVED_COMMANDS",
    "ORDER_COMMANDS",
    "SERVED_BY",
    "SETUP_COMMANDS",
    "UPSERTS",
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

SERVED_BY = {
    "send_inserted_products": "send_products",
    "send_updated_products": "update_products",
    "send_deleted_products": "delete_products",
    "send_inserted_stocks": "send_stocks",
    "send_updated_stocks": "update_stocks",
    "send_inserted_prices": "send_prices",
    "send_updated_prices": "update_prices",
    "send_inserted_images": "send_images",
    "send_updated_images": "update_images",
    "send_updated_orders": "update_orders",
}
"""The method of the resource-shaped contract that serves a command, where its name is not
the command's own (``check_products``, ``get_orders``... serve themselves)."""
UPSERTS = {
    "update_products": "send_products",
    "update_stocks": "send_stocks",
    "update_prices": "send_prices",
    "update_images": "send_images",
}
"""With ``upserts`` on, an update method the channel does not write is its send method."""
