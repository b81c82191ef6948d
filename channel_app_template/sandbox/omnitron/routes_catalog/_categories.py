"""Category trees, their nodes (create, rename, delete and move subtrees) and the links of
products to nodes, under a channel."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Sim, channel_of, guard
from ..errors import ApiError
from ..http import json_response, list_response, read_json
from ..resources import SPECS
from ..route_table import CHANNEL, Entry, route
from ._tree import (
    MOVE_POSITIONS,
    add_node,
    delete_subtree,
    move_subtree,
    node_ref,
    node_wire,
    sibling_clash,
)

TREE_SPEC = SPECS["category_trees"]
NODE_SPEC = SPECS["category_nodes"]
PC_SPEC = SPECS["product_categories"]


def tree_wire(sim: Sim, tree: dict[str, Any]) -> dict[str, Any]:
    out = sim.store.wire(TREE_SPEC, tree)
    root = sim.store.get("category_nodes", tree["category_root"] or 0)
    out["category_root"] = None if root is None else node_wire(sim, root)
    return out


# ----------------------------------------------------------------------------- trees
async def create_tree(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        values = sim.store.validate(TREE_SPEC, body, partial=False)
        tree = sim.store.insert("category_trees", {**values, "channel": cid})
        root = add_node(sim, cid, None, "Root", tree["id"])  # root name # [INF]
        tree = sim.store.update("category_trees", tree["id"], {"category_root": root["id"]})
    return json_response(tree_wire(sim, tree), 201)


async def list_trees(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(
        request,
        sim.store,
        TREE_SPEC,
        base=[("t.channel = ?", [cid])],
        serializer=lambda r: tree_wire(sim, r),
    )


async def get_tree(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    tree = sim.store.require("category_trees", int(request.path_params["obj_id"]), cid)
    return json_response(tree_wire(sim, tree))


# ----------------------------------------------------------------------------- nodes
async def create_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        values = sim.store.validate(NODE_SPEC, body, partial=False)
        parent_id = body.get("node") if isinstance(body, dict) else None
        if parent_id is None:
            raise ApiError(400, {"node": ["This field is required."]})
        parent = sim.store.get("category_nodes", int(parent_id))
        if parent is None or parent["channel"] != cid:
            raise ApiError(400, {"node": [f'Invalid pk "{parent_id}" - object does not exist.']})
        name = values.pop("name")
        node = add_node(sim, cid, parent, name, None, values)
    return json_response(node_wire(sim, node), 201)


async def list_nodes(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    return list_response(request, sim.store, NODE_SPEC, base=[("t.channel = ?", [cid])])


async def get_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    node = sim.store.require("category_nodes", int(request.path_params["obj_id"]), cid)
    return json_response(node_wire(sim, node))


async def patch_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    with sim.store.tx():
        node = sim.store.require("category_nodes", int(request.path_params["obj_id"]), cid)
        values = sim.store.validate(NODE_SPEC, body, partial=True)
        if "name" in values and values["name"] != node["name"]:
            sibling_clash(sim, node["parent"], values["name"], node["id"])
        node = sim.store.update("category_nodes", node["id"], values)  # {} bumps the date
    return json_response(node_wire(sim, node))


async def detailed_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    node = sim.store.require("category_nodes", int(request.path_params["obj_id"]), cid)
    out = node_wire(sim, node)
    children = sim.store.select("category_nodes", "t.parent = ?", [node["id"]], "t.path")
    out["children"] = [{"pk": c["id"], "name": c["name"]} for c in children]
    return json_response(out)


async def delete_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    with sim.store.tx():
        node = sim.store.require("category_nodes", int(request.path_params["obj_id"]), cid)
        delete_subtree(sim, cid, node)
    return Response(status_code=204)


async def move_node(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    with sim.store.tx():
        node = node_ref(sim, cid, body, "node")
        target = node_ref(sim, cid, body, "target")
        position = body.get("pos", "last-child")
        if position not in MOVE_POSITIONS:
            raise ApiError(400, {"pos": [f'"{position}" is not a valid choice.']})
        node = move_subtree(sim, node, target)
    return json_response(node_wire(sim, node))


# ----------------------------------------------------------------------------- product links
async def product_categories(request: Request) -> Response:
    sim = guard(request)
    channel_of(request, sim)
    return list_response(request, sim.store, PC_SPEC)


async def product_categories_detailed(request: Request) -> Response:
    sim = guard(request)
    channel_of(request, sim)

    def detailed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The page's nodes in one query; a category the query cannot key (a bad row's
        value) is looked up alone, as before."""
        ids = sorted({row["category"] for row in rows if type(row["category"]) is int})
        nodes: dict[Any, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for found in sim.store.select("category_nodes", f"t.id IN ({marks})", part):
                nodes[found["id"]] = found
        out = []
        for row in rows:
            wire = sim.store.wire(PC_SPEC, row)
            node: dict[str, Any] | None = (
                nodes.get(row["category"]) if type(row["category"]) is int else None
            )
            if node is None:
                node = sim.store.get("category_nodes", row["category"])
            wire["category"] = None if node is None else node_wire(sim, node)
            out.append(wire)
        return out

    return list_response(request, sim.store, PC_SPEC, page_serializer=detailed)


NODE = f"{CHANNEL}/category_nodes/{{obj_id:int}}/"

ROUTES: list[Entry] = [
    route(f"{CHANNEL}/category_trees/", GET=list_trees, POST=create_tree),
    route(f"{CHANNEL}/category_trees/{{obj_id:int}}/", GET=get_tree),
    route(f"{CHANNEL}/category_nodes/", GET=list_nodes, POST=create_node),
    route(f"{CHANNEL}/category_nodes/move/", POST=move_node),
    route(NODE, GET=get_node, PATCH=patch_node, DELETE=delete_node),
    route(f"{NODE}detailed/", GET=detailed_node),
    route(f"{CHANNEL}/product_categories/", GET=product_categories),
    route(f"{CHANNEL}/product_categories/detailed/", GET=product_categories_detailed),
]
