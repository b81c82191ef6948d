"""Catalog routes: channel, catalog, content types, products, prices, stocks, images,
categories, attributes, integration actions, batch requests and error reports."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .context import Sim, channel_of, guard
from .crud import API, add_crud, mount
from .errors import ApiError, not_found
from .http import json_response, list_response, read_json
from .resources import MODEL_TABLES, SPECS
from .sync import (
    Batches,
    content_type_id,
    deleted_clause,
    ia_join,
    product_sent_clause,
    view_clause,
)

ALL = ("list", "retrieve", "create", "update", "replace", "delete")
TREE_STEP = 4
TREE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def register(app: FastAPI) -> None:
    _channel_and_catalog(app)
    _products(app)
    _price_stock_image(app)
    _categories(app)
    _attributes(app)
    _integration_actions(app)
    _batch_requests(app)
    _error_reports(app)


def catalog_of(sim: Sim, cid: int) -> dict[str, Any]:
    channel = sim.store.require("channels", cid)
    catalog = sim.store.get("catalogs", int(channel["catalog"] or 0))
    if catalog is None:
        raise ApiError(406, {"error": "Channel has no catalog."})
    return catalog


# ----------------------------------------------------------------------------- channel
def _channel_and_catalog(app: FastAPI) -> None:
    add_crud(app, "channels", "channels", ("list", "retrieve", "update"), scoped=False)
    add_crud(app, "catalogs", "catalogs", ("list", "retrieve"), scoped=False)
    add_crud(app, "content_types", "content_types", ("list", "retrieve"), scoped=False)
    add_crud(app, "price_lists", "price_lists", ("list", "retrieve"))
    add_crud(app, "stock_lists", "stock_lists", ("list", "retrieve"))
    add_crud(app, "retail_stores", "retail_stores", ("list", "retrieve"))


# ----------------------------------------------------------------------------- products
def _cascade_product_delete(sim: Sim, product_id: int) -> None:
    """Deleting a product takes its prices, stocks, images and category links with it. # [INF]"""
    for table in ("product_prices", "product_stocks", "product_images", "product_categories"):
        sim.store.conn.execute(f"DELETE FROM {table} WHERE product = ?", (product_id,))  # noqa: S608


def _products(app: FastAPI) -> None:
    add_crud(
        app,
        "products",
        "products",
        ALL,
        scoped=False,
        before_delete=lambda sim, row: _cascade_product_delete(sim, row["id"]),
    )
    # one catalog per channel: every product belongs to it # [INF]
    add_crud(app, "products", "products", ("list", "retrieve"))
    for view in ("inserts", "updates", "inserts_or_updates"):
        _view_route(app, "products", "products", view)

    async def mapped_product(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        product = sim.store.require("products", int(request.path_params["obj_id"]))
        return json_response(map_product(sim, cid, product))

    mount(app, f"{API}/channel/{{cid:int}}/mapped_products/{{obj_id:int}}/", GET=mapped_product)


def _view_route(
    app: FastAPI,
    name: str,
    table: str,
    view: str,
    *,
    list_key: str | None = None,
    extra: bool = False,
) -> None:
    """``{name}/{inserts|updates|inserts_or_updates}/`` of a channel's catalog."""
    spec = SPECS[table]
    model = spec.model
    assert model is not None

    async def handler(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        base = [(view_clause(view), []), *_catalog_scope(sim, cid, list_key, extra)]
        if table != "products":
            base.append((product_sent_clause(cid), []) if view != "updates" else ("1=1", []))
        return list_response(request, sim.store, spec, base=base, joins=ia_join(cid, model))

    mount(app, f"{API}/channel/{{cid:int}}/{name}/{view}/", GET=handler)


def _catalog_scope(
    sim: Sim, cid: int, list_key: str | None, extra: bool
) -> list[tuple[str, list[Any]]]:
    """Prices/stocks of the catalog's default list, or of its extra lists (``extra_*``)."""
    if list_key is None:
        return []
    catalog = catalog_of(sim, cid)
    if not extra:
        return [(f"t.{list_key} = ?", [catalog[list_key]])]
    lists = [int(x) for x in catalog[f"extra_{list_key}s"] or []]
    if not lists:
        return [("0=1", [])]
    return [(f"t.{list_key} IN ({','.join('?' * len(lists))})", lists)]


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


# ----------------------------------------------------------------------------- prices & co.
def _price_stock_image(app: FastAPI) -> None:
    for name, table, key in (
        ("product_prices", "product_prices", "price_list"),
        ("product_stocks", "product_stocks", "stock_list"),
    ):
        add_crud(app, name, table, ALL, scoped=False)  # merchant-side edits # [INF]
        _scoped_list(app, name, table, key, extra=False)
        _scoped_list(app, f"extra_{name}", table, key, extra=True)
        for view in ("inserts", "updates"):
            _view_route(app, name, table, view, list_key=key, extra=False)
            _view_route(app, f"extra_{name}", table, view, list_key=key, extra=True)
    add_crud(app, "product_images", "product_images", ALL, scoped=False)
    add_crud(app, "product_images", "product_images", ("list", "retrieve"))
    for view in ("inserts", "updates"):
        _view_route(app, "product_images", "product_images", view)


def _scoped_list(app: FastAPI, name: str, table: str, key: str, *, extra: bool) -> None:
    spec = SPECS[table]

    async def list_view(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        return list_response(request, sim.store, spec, base=_catalog_scope(sim, cid, key, extra))

    async def retrieve_view(request: Request) -> Response:
        sim = guard(request)
        channel_of(request, sim)
        return json_response(
            sim.store.wire(spec, sim.store.require(table, int(request.path_params["obj_id"])))
        )

    mount(app, f"{API}/channel/{{cid:int}}/{name}/", GET=list_view)
    mount(app, f"{API}/channel/{{cid:int}}/{name}/{{obj_id:int}}/", GET=retrieve_view)


# ----------------------------------------------------------------------------- categories
def _encode_step(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = TREE_ALPHABET[rest] + digits
    return digits.rjust(TREE_STEP, "0")


def node_wire(sim: Sim, node: dict[str, Any]) -> dict[str, Any]:
    return sim.store.wire(SPECS["category_nodes"], node)


def _sibling_clash(sim: Sim, parent: int | None, name: str, exclude: int | None) -> None:
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
        _sibling_clash(sim, parent["id"], name, None)
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


def _node_ref(sim: Sim, cid: int, body: dict[str, Any], key: str) -> dict[str, Any]:
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
    _sibling_clash(sim, target["id"], node["name"], node["id"])
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


def _categories(app: FastAPI) -> None:
    tree_spec = SPECS["category_trees"]
    node_spec = SPECS["category_nodes"]
    base = f"{API}/channel/{{cid:int}}"

    def tree_wire(sim: Sim, tree: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(tree_spec, tree)
        root = sim.store.get("category_nodes", tree["category_root"] or 0)
        out["category_root"] = None if root is None else node_wire(sim, root)
        return out

    async def create_tree(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            values = sim.store.validate(tree_spec, body, partial=False)
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
            tree_spec,
            base=[("t.channel = ?", [cid])],
            serializer=lambda r: tree_wire(sim, r),
        )

    async def get_tree(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        tree = sim.store.require("category_trees", int(request.path_params["obj_id"]), cid)
        return json_response(tree_wire(sim, tree))

    mount(app, f"{base}/category_trees/", GET=list_trees, POST=create_tree)
    mount(app, f"{base}/category_trees/{{obj_id:int}}/", GET=get_tree)

    async def create_node(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            values = sim.store.validate(node_spec, body, partial=False)
            parent_id = body.get("node") if isinstance(body, dict) else None
            if parent_id is None:
                raise ApiError(400, {"node": ["This field is required."]})
            parent = sim.store.get("category_nodes", int(parent_id))
            if parent is None or parent["channel"] != cid:
                raise ApiError(
                    400, {"node": [f'Invalid pk "{parent_id}" - object does not exist.']}
                )
            name = values.pop("name")
            node = add_node(sim, cid, parent, name, None, values)
        return json_response(node_wire(sim, node), 201)

    async def list_nodes(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        return list_response(request, sim.store, node_spec, base=[("t.channel = ?", [cid])])

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
            values = sim.store.validate(node_spec, body, partial=True)
            if "name" in values and values["name"] != node["name"]:
                _sibling_clash(sim, node["parent"], values["name"], node["id"])
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
            node = _node_ref(sim, cid, body, "node")
            target = _node_ref(sim, cid, body, "target")
            position = body.get("pos", "last-child")
            if position not in MOVE_POSITIONS:
                raise ApiError(400, {"pos": [f'"{position}" is not a valid choice.']})
            node = move_subtree(sim, node, target)
        return json_response(node_wire(sim, node))

    mount(app, f"{base}/category_nodes/", GET=list_nodes, POST=create_node)
    mount(app, f"{base}/category_nodes/move/", POST=move_node)
    mount(
        app,
        f"{base}/category_nodes/{{obj_id:int}}/",
        GET=get_node,
        PATCH=patch_node,
        DELETE=delete_node,
    )
    mount(app, f"{base}/category_nodes/{{obj_id:int}}/detailed/", GET=detailed_node)

    pc_spec = SPECS["product_categories"]

    async def product_categories(request: Request) -> Response:
        sim = guard(request)
        channel_of(request, sim)
        return list_response(request, sim.store, pc_spec)

    async def product_categories_detailed(request: Request) -> Response:
        sim = guard(request)
        channel_of(request, sim)

        def detailed(row: dict[str, Any]) -> dict[str, Any]:
            out = sim.store.wire(pc_spec, row)
            node = sim.store.get("category_nodes", row["category"])
            out["category"] = None if node is None else node_wire(sim, node)
            return out

        return list_response(request, sim.store, pc_spec, serializer=detailed)

    mount(app, f"{base}/product_categories/", GET=product_categories)
    mount(app, f"{base}/product_categories/detailed/", GET=product_categories_detailed)


# ----------------------------------------------------------------------------- attributes
def _attributes(app: FastAPI) -> None:
    writable = ("list", "retrieve", "create", "update")
    for name in (
        "attribute_sets",
        "attribute_set_configs",
        "attribute_schemas",
        "attribute_values",
        "attribute_value_configs",
    ):
        add_crud(app, name, name, writable)
    add_crud(app, "attributes", "attributes", writable)
    add_crud(app, "attribute_configs", "attribute_configs", writable)
    spec = SPECS["attribute_configs"]

    async def detailed(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)

        def nested(row: dict[str, Any]) -> dict[str, Any]:
            out = sim.store.wire(spec, row)
            attribute = sim.store.get("attributes", row["attribute"])
            attr_set = sim.store.get("attribute_sets", row["attribute_set"])
            out["attribute"] = attribute and {"pk": attribute["id"], "name": attribute["name"]}
            out["attribute_set"] = attr_set and {"pk": attr_set["id"], "name": attr_set["name"]}
            return out

        return list_response(
            request, sim.store, spec, base=[("t.channel = ?", [cid])], serializer=nested
        )

    mount(app, f"{API}/channel/{{cid:int}}/attribute_configs/detailed/", GET=detailed)


# ----------------------------------------------------------------------------- IAs
def content_types(sim: Sim) -> dict[int, dict[str, Any]]:
    return {
        r["id"]: {"id": r["id"], "app_label": r["app_label"], "model": r["model"]}
        for r in sim.store.select("content_types")
    }


def ia_serializer(sim: Sim) -> Any:
    types = content_types(sim)
    spec = SPECS["integration_actions"]

    def serialize(row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(spec, row)
        out["content_type"] = types.get(row["content_type"])
        table = MODEL_TABLES.get(row["model"] or "")
        alive = table is not None and sim.store.exists(table, row["object_id"])
        out["content_object"] = {"pk": row["object_id"]} if alive else None  # [INF] minimal
        return out

    return serialize


def _ia_values(sim: Sim, cid: int, body: Any, partial: bool) -> dict[str, Any]:
    """IA bodies name the type as ``content_type`` (model string or id), ``content_type_id`` or
    ``content_type_model``."""
    spec = SPECS["integration_actions"]
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    clean = {k: v for k, v in body.items() if k != "content_type"}
    values = sim.store.validate(spec, clean, partial=partial)
    values.pop("model", None)
    ct = body.get("content_type_id", body.get("content_type_model", body.get("content_type")))
    if isinstance(ct, dict):
        ct = ct.get("id") or ct.get("model")
    if ct is None:
        if not partial:
            raise ApiError(400, {"content_type": ["This field is required."]})
        return values
    if isinstance(ct, int) or (isinstance(ct, str) and ct.isdigit()):
        row = sim.store.get("content_types", int(ct))
        if row is None:
            raise ApiError(400, {"content_type": [f'Invalid pk "{ct}" - object does not exist.']})
        values["content_type"], values["model"] = row["id"], row["model"]
    else:
        values["content_type"], values["model"] = content_type_id(sim.store, str(ct)), str(ct)
    values["channel"] = cid
    return values


def _integration_actions(app: FastAPI) -> None:
    spec = SPECS["integration_actions"]
    base = f"{API}/channel/{{cid:int}}/integration_actions/"

    def clash(sim: Sim, cid: int, values: dict[str, Any], exclude: int | None) -> None:
        where = "t.channel = ? AND t.model = ? AND t.object_id = ?"
        args: list[Any] = [cid, values["model"], values["object_id"]]
        if exclude is not None:
            where += " AND t.id != ?"
            args.append(exclude)
        if sim.store.count("integration_actions", where, args):
            raise ApiError(
                400,
                {
                    "non_field_errors": [
                        "The fields channel, content_type, object_id must make a unique set."
                    ],
                    "code": "unique",
                },
            )  # one IA per (channel, type, object) # [INF]

    async def create(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            values = _ia_values(sim, cid, body, partial=False)
            clash(sim, cid, values, None)
            # a hand-made IA with a remote id counts as synced # [INF]
            values.setdefault("status", "success" if values.get("remote_id") else None)
            row = sim.store.insert("integration_actions", values)
        return json_response(ia_serializer(sim)(row), 201)

    async def listing(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        return list_response(
            request, sim.store, spec, base=[("t.channel = ?", [cid])], serializer=ia_serializer(sim)
        )

    async def retrieve(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
        return json_response(ia_serializer(sim)(row))

    async def patch(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
            values = _ia_values(sim, cid, body, partial=True)
            merged = {**row, **values}
            clash(sim, cid, merged, row["id"])
            row = sim.store.update("integration_actions", row["id"], values)
        return json_response(ia_serializer(sim)(row))

    async def delete(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        with sim.store.tx():
            row = sim.store.require("integration_actions", int(request.path_params["obj_id"]), cid)
            sim.store.delete("integration_actions", row["id"])
        return Response(status_code=204)

    async def deleted(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        params = request.query_params
        models = (
            params.getlist("model")
            or params.getlist("content_type_name")
            or ["product", "productprice", "productstock", "productimage"]
        )
        return list_response(
            request,
            sim.store,
            spec,
            skip=frozenset({"model", "content_type_name", "channel_id"}),
            base=[("t.channel = ?", [cid]), (deleted_clause(models), [])],
            serializer=ia_serializer(sim),
        )

    mount(app, base, GET=listing, POST=create)
    mount(app, base + "{obj_id:int}/", GET=retrieve, PATCH=patch, DELETE=delete)
    mount(app, base + "deleted/", GET=deleted)


# ----------------------------------------------------------------------------- batches
def _batch_requests(app: FastAPI) -> None:
    spec = SPECS["batch_requests"]
    base = f"{API}/channel/{{cid:int}}/batch_requests/"

    async def create(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            row = Batches(sim.store).create(cid, body)
        return json_response(sim.store.wire(spec, row), 201)

    async def listing(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        return list_response(request, sim.store, spec, base=[("t.channel = ?", [cid])])

    async def retrieve(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        row = sim.store.require("batch_requests", int(request.path_params["obj_id"]), cid)
        return json_response(sim.store.wire(spec, row))

    async def patch(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        row = Batches(sim.store).patch(cid, int(request.path_params["obj_id"]), body)
        return json_response(sim.store.wire(spec, row))

    mount(app, base, GET=listing, POST=create)
    mount(app, base + "{obj_id:int}/", GET=retrieve, PATCH=patch)


# ----------------------------------------------------------------------------- error reports
LOCATION_REPORTS = frozenset({"country", "city", "township", "district", "distinct"})


def _error_reports(app: FastAPI) -> None:
    spec = SPECS["error_reports"]
    base = f"{API}/channel/{{cid:int}}/error_reports/"

    def wire(sim: Sim, row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(spec, row)
        out["action"] = {
            "content_type": row["action_content_type"],
            "object_id": row["action_object_id"],
        }
        out["target"] = {
            "content_type": row["target_content_type"],
            "object_id": row["target_object_id"],
        }
        return out

    async def create(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        body = await read_json(request)
        with sim.store.tx():
            values = sim.store.validate(spec, body, partial=False)
            values["channel"] = cid
            if values.get("target_content_type") is None:
                values["target_content_type"] = content_type_id(sim.store, "channel")
                values.setdefault("target_object_id", cid)
            if values.get("target_object_id") is None:
                values["target_object_id"] = cid
            row = sim.store.insert("error_reports", values)
        return json_response(wire(sim, row), 201)

    async def create_location(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        kind = request.path_params["kind"]
        if kind not in LOCATION_REPORTS:
            raise not_found()
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        row = sim.store.insert(
            "error_reports",
            {
                "channel": cid,
                "type": str(body.get("type") or kind),
                "extra": body,
                "error_code": body.get("err_code"),
                "error_desc": body.get("err_desc"),
                "is_ok": False,
            },
        )
        out = wire(sim, row)
        out.update(body)  # echo the mapping-task fields back # [INF]
        return json_response(out, 201)

    async def listing(request: Request) -> Response:
        sim = guard(request)
        cid = channel_of(request, sim)
        return list_response(
            request,
            sim.store,
            spec,
            base=[("t.channel = ?", [cid])],
            serializer=lambda r: wire(sim, r),
        )

    mount(app, base, GET=listing, POST=create)
    mount(app, base + "{kind:str}/", POST=create_location)
