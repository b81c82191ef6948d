"""The category tree as treebeard stores it: materialized paths of 4-char base-36 steps.

Insert, delete and move of nodes and subtrees, kept apart from the routes so the path rules
are in one place."""

from __future__ import annotations

from typing import Any

from ..context import Sim
from ..errors import ApiError
from ..resources import SPECS

TREE_STEP = 4
TREE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _encode_step(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = TREE_ALPHABET[rest] + digits
    return digits.rjust(TREE_STEP, "0")


def node_wire(sim: Sim, node: dict[str, Any]) -> dict[str, Any]:
    return sim.store.wire(SPECS["category_nodes"], node)


def sibling_clash(sim: Sim, parent: int | None, name: str, exclude: int | None) -> None:
    where = "t.parent IS ? AND t.name = ?" if parent is None else "t.parent = ? AND t.name = ?"
    args: list[Any] = [parent, name]
    if exclude is not None:
        where += " AND t.id != ?"
        args.append(exclude)
    if sim.store.count("category_nodes", where, args):
        raise ApiError(
            400,
            {
                "non_field_errors": [
                    f"Category node with name {name!r} already exists under this parent."
                ],
                "code": "unique",
            },
        )


def next_child_path(sim: Sim, parent: dict[str, Any]) -> str:
    """The path of a new last child: one step past the highest existing child's path.

    Not ``numchild + 1``: after a child is deleted or moved away that path may still be taken
    by a later sibling (treebeard also appends after the last child)."""
    row = sim.store.conn.execute(
        "SELECT max(path) FROM category_nodes WHERE parent = ?", (parent["id"],)
    ).fetchone()
    last = row[0] if row and row[0] else None
    number = int(last[-TREE_STEP:], 36) + 1 if last else 1
    return str(parent["path"]) + _encode_step(number)


def add_node(
    sim: Sim,
    cid: int,
    parent: dict[str, Any] | None,
    name: str,
    tree: int | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Materialized-path insert (treebeard style: 4-char base-36 steps)."""
    store = sim.store
    if parent is None:
        count = store.count("category_nodes", "t.parent IS NULL")
        path, depth = _encode_step(count + 1), 1
        while store.count("category_nodes", "t.path = ?", [path]):
            count += 1
            path = _encode_step(count + 1)
    else:
        sibling_clash(sim, parent["id"], name, None)
        path = next_child_path(sim, parent)
        depth = int(parent["depth"]) + 1
        store.update(
            "category_nodes", parent["id"], {"numchild": int(parent["numchild"]) + 1}, touch=False
        )
        tree = parent["tree"]
    values = {
        **(extra or {}),
        "channel": cid,
        "name": name,
        "path": path,
        "depth": depth,
        "numchild": 0,
        "parent": None if parent is None else parent["id"],
        "tree": tree,
    }
    return store.insert("category_nodes", values)


MOVE_POSITIONS = frozenset({"last-child"})  # treebeard's other positions are not simulated


def node_ref(sim: Sim, cid: int, body: dict[str, Any], key: str) -> dict[str, Any]:
    """A node named by pk in a request body, DRF's 400 when it is missing or elsewhere."""
    value = body.get(key)
    if value is None:
        raise ApiError(400, {key: ["This field is required."]})
    try:
        node = sim.store.get("category_nodes", int(value))
    except (TypeError, ValueError):
        raise ApiError(400, {key: ["Incorrect type. Expected pk value."]}) from None
    if node is None or node["channel"] != cid:
        raise ApiError(400, {key: [f'Invalid pk "{value}" - object does not exist.']})
    return node


def _subtree_ids(sim: Sim, cid: int, node: dict[str, Any]) -> list[int]:
    """The node and all its descendants (materialized path prefix), in one query."""
    rows = sim.store.conn.execute(
        "SELECT id FROM category_nodes WHERE channel = ? AND substr(path, 1, ?) = ?",
        (cid, len(node["path"]), node["path"]),
    ).fetchall()
    return [int(row[0]) for row in rows]


def delete_subtree(sim: Sim, cid: int, node: dict[str, Any]) -> None:
    """DELETE a node: its descendants go with it (treebeard deletes subtrees), as do product
    links and attribute-set links to any of them; integration actions stay, so
    ``integration_actions/deleted/?model=categorynode`` lists them. A tree's root cannot be
    deleted (406). # [INF]"""
    if node["parent"] is None:
        raise ApiError(406, {"error": "The root node of a category tree cannot be deleted."})
    ids = _subtree_ids(sim, cid, node)
    marks = ",".join("?" * len(ids))
    conn = sim.store.conn
    conn.execute(f"DELETE FROM category_nodes WHERE id IN ({marks})", ids)  # noqa: S608
    conn.execute(f"DELETE FROM product_categories WHERE category IN ({marks})", ids)  # noqa: S608
    links = "content_type = 'categorynode' AND object_id"
    conn.execute(f"DELETE FROM attribute_set_configs WHERE {links} IN ({marks})", ids)  # noqa: S608
    parent = sim.store.require("category_nodes", node["parent"])
    sim.store.update(
        "category_nodes",
        parent["id"],
        {"numchild": max(0, int(parent["numchild"]) - 1)},
        touch=False,
    )


def move_subtree(sim: Sim, node: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """``category_nodes/move/`` ``{node, target, pos: "last-child"}``: the node and its subtree
    become the last child of ``target`` (paths and depths rewritten, ``numchild`` of both
    parents kept right). Refused (400) for a root, a target inside the node's own subtree, or
    a sibling of the same name under the target. Moving to the current parent is a no-op. The
    body shape is treebeard's ``move(target, pos)``; Omnitron's own field names are not
    published. # [INF]"""
    if node["parent"] is None:
        raise ApiError(400, {"node": ["The root node of a category tree cannot be moved."]})
    if str(target["path"]).startswith(str(node["path"])):
        raise ApiError(400, {"target": ["A node cannot be moved into its own subtree."]})
    if node["parent"] == target["id"]:
        return node
    sibling_clash(sim, target["id"], node["name"], node["id"])
    old_path, new_path = str(node["path"]), next_child_path(sim, target)
    shift = int(target["depth"]) + 1 - int(node["depth"])
    sim.store.conn.execute(
        "UPDATE category_nodes SET path = ? || substr(path, ?), depth = depth + ?, tree = ? "
        "WHERE channel = ? AND substr(path, 1, ?) = ?",
        (
            new_path,
            len(old_path) + 1,
            shift,
            target["tree"],
            node["channel"],
            len(old_path),
            old_path,
        ),
    )
    old_parent = sim.store.require("category_nodes", node["parent"])
    sim.store.update(
        "category_nodes",
        old_parent["id"],
        {"numchild": max(0, int(old_parent["numchild"]) - 1)},
        touch=False,
    )
    sim.store.update(
        "category_nodes", target["id"], {"numchild": int(target["numchild"]) + 1}, touch=False
    )
    return sim.store.update("category_nodes", node["id"], {"parent": target["id"]})
