"""Contract: the category routes the setup flows need beyond create/rename (real HTTP).

``DELETE category_nodes/{pk}/`` removes the subtree; ``POST category_nodes/move/``
``{node, target, pos}`` re-parents a subtree (body shape inferred, see routes_catalog).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
NODES = "/channel/1/category_nodes/"


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=20, seed=9) as running:
        yield running


@pytest.fixture
def api(sim: OmnitronSim) -> ApiClient:
    return sim.client()


def create(api: ApiClient, parent: int, name: str) -> dict[str, Any]:
    node: dict[str, Any] = api.ok("POST", NODES, {"node": parent, "name": name})
    return node


def get(api: ApiClient, pk: int) -> dict[str, Any]:
    node: dict[str, Any] = api.ok("GET", f"{NODES}{pk}/")
    return node


@pytest.fixture
def root(api: ApiClient) -> dict[str, Any]:
    tree = api.ok("POST", "/channel/1/category_trees/", {"name": "Routes tree"})
    node: dict[str, Any] = tree["category_root"]
    return node


def test_move_reparents_the_whole_subtree(api: ApiClient, root: dict[str, Any]) -> None:
    a = create(api, root["pk"], "A")
    b = create(api, root["pk"], "B")
    a1 = create(api, a["pk"], "A1")
    a11 = create(api, a1["pk"], "A11")
    moved = api.ok("POST", f"{NODES}move/", {"node": a1["pk"], "target": b["pk"]})
    assert moved["pk"] == a1["pk"] and moved["parent"] == b["pk"]
    assert moved["path"].startswith(b["path"]) and moved["depth"] == b["depth"] + 1
    child = get(api, a11["pk"])
    assert child["path"].startswith(moved["path"]) and child["depth"] == moved["depth"] + 1
    assert get(api, a["pk"])["numchild"] == 0 and get(api, b["pk"])["numchild"] == 1
    detailed = api.ok("GET", f"{NODES}{b['pk']}/detailed/")
    assert detailed["children"] == [{"pk": a1["pk"], "name": "A1"}]
    subtree = api.all_pages(f"{NODES}?path__startswith={b['path']}")
    assert {n["pk"] for n in subtree} == {b["pk"], a1["pk"], a11["pk"]}


def test_move_refusals(api: ApiClient, root: dict[str, Any]) -> None:
    a = create(api, root["pk"], "A")
    b = create(api, root["pk"], "B")
    a1 = create(api, a["pk"], "Same")
    create(api, b["pk"], "Same")
    status, body = api.post(f"{NODES}move/", {"node": a1["pk"], "target": b["pk"]})
    assert status == 400 and body["code"] == "unique"  # a sibling of that name
    status, body = api.post(f"{NODES}move/", {"node": a["pk"], "target": a1["pk"]})
    assert status == 400 and "target" in body  # into its own subtree
    assert api.post(f"{NODES}move/", {"node": root["pk"], "target": b["pk"]})[0] == 400
    status, body = api.post(f"{NODES}move/", {"node": a["pk"], "target": 999999})
    assert status == 400 and "target" in body
    bad = {"node": a["pk"], "target": b["pk"], "pos": "left"}
    assert api.post(f"{NODES}move/", bad)[0] == 400
    same = api.ok("POST", f"{NODES}move/", {"node": a1["pk"], "target": a["pk"]})
    assert same["path"] == a1["path"]  # already there: nothing changes


def test_delete_removes_the_subtree_and_its_links(api: ApiClient, root: dict[str, Any]) -> None:
    a = create(api, root["pk"], "A")
    a1 = create(api, a["pk"], "A1")
    keep = create(api, root["pk"], "Keep")
    attr_set = api.ok("POST", "/channel/1/attribute_sets/", {"name": "S", "remote_id": "s-del"})
    api.ok(
        "POST",
        "/channel/1/attribute_set_configs/",
        {"attribute_set": attr_set["pk"], "object_id": a1["pk"], "content_type": "categorynode"},
    )
    action = api.ok(
        "POST",
        "/channel/1/integration_actions/",
        {"channel_id": 1, "content_type": "categorynode", "object_id": a1["pk"], "remote_id": "r"},
    )
    assert api.delete(f"{NODES}{a['pk']}/")[0] == 204
    assert api.get(f"{NODES}{a['pk']}/")[0] == 404 and api.get(f"{NODES}{a1['pk']}/")[0] == 404
    assert api.delete(f"{NODES}{a['pk']}/")[0] == 404
    assert get(api, keep["pk"])["pk"] == keep["pk"]
    assert get(api, root["pk"])["numchild"] == 1
    configs = api.all_pages(f"/channel/1/attribute_set_configs/?object_id={a1['pk']}")
    assert configs == []
    deleted = api.all_pages("/channel/1/integration_actions/deleted/?model=categorynode")
    assert action["pk"] in {row["pk"] for row in deleted}  # the mapping outlives its node
    status, body = api.delete(f"{NODES}{root['pk']}/")
    assert status == 406 and "error" in body


def test_delete_takes_product_links_along(api: ApiClient) -> None:
    links = api.ok("GET", "/channel/1/product_categories/?limit=1")["results"]
    category = links[0]["category"]
    before = api.ok("GET", f"/channel/1/product_categories/?category={category}")["count"]
    assert before > 0
    assert api.delete(f"{NODES}{category}/")[0] == 204
    assert api.ok("GET", f"/channel/1/product_categories/?category={category}")["count"] == 0


def test_new_child_paths_never_collide_after_delete_or_move(
    api: ApiClient, root: dict[str, Any]
) -> None:
    first = create(api, root["pk"], "One")
    create(api, root["pk"], "Two")
    assert api.delete(f"{NODES}{first['pk']}/")[0] == 204
    third = create(api, root["pk"], "Three")
    other = create(api, root["pk"], "Other")
    api.ok("POST", f"{NODES}move/", {"node": third["pk"], "target": other["pk"]})
    fourth = create(api, root["pk"], "Four")
    paths = [n["path"] for n in api.all_pages(f"{NODES}?path__startswith={root['path']}")]
    assert len(paths) == len(set(paths)) and fourth["path"] not in (first["path"], third["path"])
    assert get(api, root["pk"])["numchild"] == 3
