"""``mapped_products``: a product's attributes as the channel's attribute set names them.

A catalog sync asks this once per product, so the channel's attribute set layout (configs,
attributes, value labels) is read through the store's memo: it is read again only after a
write, which in a sync is once per batch rather than once per product."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..context import Sim
from ..errors import ApiError

__all__ = ["map_product"]

# (config id, category node, attribute set) of a channel's category-node configs, by id
NodeConfigs = list[tuple[int, Any, Any]]
# the attribute set's row and its (config, attribute) pairs; attribute None when it is gone
SetLayout = tuple[dict[str, Any], list[tuple[dict[str, Any], dict[str, Any] | None]]]


def _node_configs(sim: Sim, cid: int) -> NodeConfigs:
    rows = sim.store.fetch_rows(
        "SELECT id, object_id, attribute_set FROM attribute_set_configs "
        "WHERE channel = ? AND content_type = 'categorynode' ORDER BY id",
        [cid],
    )
    return [(int(row[0]), row[1], row[2]) for row in rows]


def _layout(sim: Sim, set_id: Any) -> SetLayout:
    store = sim.store
    attr_set = store.require("attribute_sets", set_id)
    pairs = [
        (config, store.get("attributes", config["attribute"]))
        for config in store.select("attribute_configs", "t.attribute_set = ?", [attr_set["id"]])
    ]
    return attr_set, pairs


def _value(sim: Sim, attribute_id: Any, raw: str) -> tuple[Any, Any] | None:
    found = sim.store.select(
        "attribute_values", "t.attribute = ? AND t.value = ?", [attribute_id, raw], limit=1
    )
    return (found[0]["label"], found[0]["value"]) if found else None


def map_product(sim: Sim, cid: int, product: dict[str, Any]) -> dict[str, Any]:
    """Channel attributes of a product: the attribute set comes from the product's category
    nodes (``attribute_set_configs`` of content type ``categorynode``), values are matched by
    attribute name against ``product.attributes``. Missing set or required value -> 406. # [INF]"""
    store = sim.store
    nodes = {
        row[0]
        for row in store.fetch_rows(
            "SELECT category FROM product_categories WHERE product = ?", [product["id"]]
        )
    }
    configs = store.memo(("node_configs", cid), partial(_node_configs, sim, cid))
    set_id = next((config[2] for config in configs if config[1] in nodes), None)
    if set_id is None:
        raise ApiError(
            406, {"error": f"Product {product['id']} has no attribute set on channel {cid}."}
        )
    attr_set, pairs = store.memo(("set_layout", set_id), partial(_layout, sim, set_id))
    attrs = product.get("attributes") or {}
    if not isinstance(attrs, dict):  # a bad stored row: this product cannot be mapped
        raise ApiError(406, {"error": f"Product {product['id']} has unreadable attributes."})
    mapped: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for config, attribute in pairs:
        if attribute is None:
            continue
        raw = attrs.get(attribute["name"])
        if raw is None:
            if config["is_required"]:
                raise ApiError(
                    406,
                    {
                        "error": f"Required attribute {attribute['name']} is "
                        f"missing on product {product['id']}."
                    },
                )
            continue
        mapped[attribute["name"]] = raw
        text = str(raw)
        key = ("attribute_value", attribute["id"], text)
        found = store.memo(key, partial(_value, sim, attribute["id"], text))
        values[str(attribute["id"])] = {
            "attribute_name": attribute["name"],
            "label": found[0] if found else text,
            "value": found[1] if found else text,
            "attribute_remote_id": config["attribute_remote_id"],
        }
    return {
        "pk": product["id"],
        "mapped_attributes": mapped,
        "mapped_attribute_values": values,
        "attribute_set_id": attr_set["id"],
        "attribute_set_name": attr_set["name"],
        "attribute_set_remote_id": attr_set["remote_id"],
        "modified_date": product["modified_date"],
    }
