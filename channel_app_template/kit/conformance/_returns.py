"""What each command must return, and how items and rows are matched by key.

The tables the recorder (:mod:`._recorder`) checks every call against: the row type of each
sending and checking command, the check command that reads a sender's ``Submitted`` job,
the item types of the getters, and what the setup commands return.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from channel_app_template.channel import (
    AttributeDto,
    BatchRequestResponseDto,
    CancellationRequestDto,
    CancelOrderDto,
    CategoryDto,
    CategoryNodeDto,
    CategoryTreeDto,
    ChannelConfSchemaField,
    ChannelCreateOrderDto,
    ChannelUpdateOrderItemDto,
    MalformedEventDto,
    MalformedOrderDto,
    OrderBatchRequestResponseDto,
    ProductBatchRequestResponseDto,
)
from channel_app_template.channel.commands import CATALOG_COMMANDS

__all__ = [
    "CHECK_OF",
    "EVENT_GETTERS",
    "GETTERS",
    "IDLE_GETTER",
    "ROW_TYPES",
    "event_key",
    "getter_item_types",
    "item_key",
    "names",
    "order_keys",
    "setup_problems",
    "what",
]

ROW_TYPES: dict[str, type[Any]] = {
    "send_inserted_products": ProductBatchRequestResponseDto,
    "send_updated_products": ProductBatchRequestResponseDto,
    "send_deleted_products": ProductBatchRequestResponseDto,
    "check_products": ProductBatchRequestResponseDto,
    "check_deleted_products": ProductBatchRequestResponseDto,
    "send_updated_orders": OrderBatchRequestResponseDto,
    "check_orders": OrderBatchRequestResponseDto,
    **{
        command: BatchRequestResponseDto
        for command in CATALOG_COMMANDS
        if any(part in command for part in ("stocks", "prices", "images"))
    },
}
CHECK_OF: dict[str, str] = {
    "send_inserted_products": "check_products",
    "send_updated_products": "check_products",
    "send_deleted_products": "check_deleted_products",
    "send_inserted_stocks": "check_stocks",
    "send_updated_stocks": "check_stocks",
    "send_inserted_prices": "check_prices",
    "send_updated_prices": "check_prices",
    "send_inserted_images": "check_images",
    "send_updated_images": "check_images",
    "send_updated_orders": "check_orders",
}
"""The command that reads the job a sending command returned as ``Submitted``."""
EVENT_GETTERS: dict[str, tuple[type[Any], Callable[[Any], str]]] = {
    "get_updated_order_items": (ChannelUpdateOrderItemDto, lambda e: f"{e.remote_id}/{e.event_id}"),
    "get_cancelled_orders": (CancelOrderDto, lambda e: f"{e.order}/{e.event_id}"),
    "get_cancellation_requests": (CancellationRequestDto, lambda e: str(e.remote_id)),
}
"""Each event getter's item type and an event's identity."""
GETTERS = frozenset({"get_orders", *EVENT_GETTERS})
IDLE_GETTER = (
    "nothing to check: the test marketplace had nothing to return "
    "(make some with TestMarketplace.prepare_orders / prepare_events)"
)


def what(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:600]


def names(types: tuple[type[Any], ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def getter_item_types(command: str) -> tuple[type[Any], ...]:
    if command == "get_orders":
        return (ChannelCreateOrderDto, MalformedOrderDto)
    return (EVENT_GETTERS[command][0], MalformedEventDto)


def item_key(command: str, thing: Any) -> str:
    """The matching key of an item sent by ``command``, or of a row it returned."""
    if "deleted_products" in command:
        return str(thing.remote_id or "")
    if isinstance(thing, OrderBatchRequestResponseDto):
        return thing.number
    return str(thing.sku)


def event_key(command: str, event: Any) -> str:
    """An event's identity; ``malformed:KEY`` for one the channel could not read."""
    if isinstance(event, MalformedEventDto):
        return f"malformed:{event.key}"
    return EVENT_GETTERS[command][1](event)


def order_keys(orders: Iterable[Any], numbers: dict[str, str] | None = None) -> list[str]:
    """The orders' remote ids (``malformed:NUMBER`` for a malformed one), in order;
    ``numbers`` collects remote id -> order number."""
    keys: list[str] = []
    for each in orders:
        if isinstance(each, ChannelCreateOrderDto):
            keys.append(each.order.remote_id)
            if numbers is not None:
                numbers[each.order.remote_id] = each.order.number
        elif isinstance(each, MalformedOrderDto):
            keys.append(f"malformed:{each.number}")
    return keys


def _tree_ids(nodes: Sequence[CategoryNodeDto]) -> Iterator[str]:
    for node in nodes:
        yield node.remote_id
        yield from _tree_ids(node.children)


def _doubled(keys: Iterable[str]) -> list[str]:
    return [key for key, n in collections.Counter(keys).items() if n > 1]


def setup_problems(command: str, result: Any, args: tuple[Any, ...]) -> list[str]:
    """What is wrong with what a setup, acknowledging or deciding command returned."""
    if command == "get_channel_conf_schema":
        if not all(isinstance(f, ChannelConfSchemaField) for f in result):
            return ["expected a sequence of ChannelConfSchemaField"]
        if doubled := _doubled(f.key for f in result):
            return [f"the same key several times: {doubled}"]
    elif command == "get_category_tree_and_nodes":
        if not isinstance(result, CategoryTreeDto):
            return [f"returned {type(result).__name__}; expected CategoryTreeDto"]
        if doubled := _doubled(_tree_ids(result.roots)):
            return [f"category remote ids are not unique: {doubled[:5]}"]
    elif command == "get_category_attributes":
        if not isinstance(result, CategoryDto):
            return [f"returned {type(result).__name__}; expected CategoryDto"]
        if args and result.remote_id != args[0]:
            return [f"asked for {args[0]!r}, returned category {result.remote_id!r}"]
    elif command == "get_attributes":
        if not isinstance(result, list) or not all(isinstance(a, AttributeDto) for a in result):
            return ["expected list[AttributeDto]"]
    elif command.startswith("acknowledge_") and result is not None:
        return [f"returned {type(result).__name__}; expected None"]
    elif command == "update_cancellation_request" and not isinstance(
        result, BatchRequestResponseDto
    ):
        return [f"returned {type(result).__name__}; expected BatchRequestResponseDto"]
    return []
