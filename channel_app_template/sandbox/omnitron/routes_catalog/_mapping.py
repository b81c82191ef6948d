"""``mapped_products``: a product's attributes as the channel's attribute set names them."""

from __future__ import annotations

from typing import Any

from ..context import Sim
from ..errors import ApiError


def map_product(sim: Sim, cid: int, product: dict[str, Any]) -> dict[str, Any]:
    """Channel attributes of a product: the attribute set comes from the product's category
    nodes (``attribute_set_configs`` of content type ``categorynode``), values are matched by
    attribute name against ``product.attributes``. Missing set or required value -> 406. # [INF]"""
    store = sim.store
    nodes = [
        r["category"] for r in store.select("product_categories", "t.product = ?", [product["id"]])
    ]
    configs = []
    if nodes:
        marks = ",".join("?" * len(nodes))
        configs = store.select(
            "attribute_set_configs",
            f"t.channel = ? AND t.content_type = 'categorynode' AND t.object_id IN ({marks})",
            [cid, *nodes],
        )
    if not configs:
        raise ApiError(
            406, {"error": f"Product {product['id']} has no attribute set on channel {cid}."}
        )
    attr_set = store.require("attribute_sets", configs[0]["attribute_set"])
    attrs = product.get("attributes") or {}
    if not isinstance(attrs, dict):  # a bad stored row: this product cannot be mapped
        raise ApiError(406, {"error": f"Product {product['id']} has unreadable attributes."})
    mapped: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for config in store.select("attribute_configs", "t.attribute_set = ?", [attr_set["id"]]):
        attribute = store.get("attributes", config["attribute"])
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
        found = store.select(
            "attribute_values",
            "t.attribute = ? AND t.value = ?",
            [attribute["id"], str(raw)],
            limit=1,
        )
        values[str(attribute["id"])] = {
            "attribute_name": attribute["name"],
            "label": found[0]["label"] if found else str(raw),
            "value": found[0]["value"] if found else str(raw),
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
