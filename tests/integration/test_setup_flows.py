"""The four setup flows against the real Omnitron simulator process and a fake channel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.channel import (
    AttributeDto,
    AttributeValueDto,
    CategoryAttributeDto,
    CategoryAttributeValueDto,
    CategoryDto,
    CategoryNodeDto,
    CategoryTreeDto,
    ChannelConfig,
    ChannelConfSchemaField,
    ChannelIntegration,
    ConfDataType,
    IntegrationContext,
)
from channel_app_template.core.setup import tree as setup_tree
from channel_app_template.core.setup.flows import (
    create_or_update_attributes,
    create_or_update_category_attributes,
    create_or_update_category_tree_and_nodes,
    update_channel_conf_schema,
)
from channel_app_template.errors import ItemError
from tests.support.bad_rows import plant
from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
HOLDING = setup_tree.HOLDING_NAME


def node(remote_id: str, name: str, *children: CategoryNodeDto) -> CategoryNodeDto:
    return CategoryNodeDto(remote_id=remote_id, name=name, children=list(children))


def marketplace_tree() -> CategoryTreeDto:
    """``Home`` also exists (unmapped) in the simulator's seed tree: it must be adopted."""
    return CategoryTreeDto(
        roots=[
            node(
                "a",
                "Apparel",
                node("a1", "Tops", node("a11", "Shirts"), node("a12", "Tees")),
                node("a2", "Shoes"),
            ),
            node("h", "Home", node("h1", "Kitchen")),
        ]
    )


def category(remote_id: str, *attributes: CategoryAttributeDto) -> CategoryDto:
    return CategoryDto(remote_id=remote_id, name=f"Set {remote_id}", attributes=list(attributes))


def attribute(
    remote_id: str, name: str, values: dict[str, str], **flags: bool
) -> CategoryAttributeDto:
    return CategoryAttributeDto(
        remote_id=remote_id,
        name=name,
        values=[CategoryAttributeValueDto(remote_id=r, name=n) for r, n in values.items()],
        **flags,
    )


COLOUR = {"c-red": "Red", "c-blue": "Blue"}


def category_attributes() -> dict[str, CategoryDto]:
    return {
        "a11": category(
            "a11",
            attribute("colour", "Colour", COLOUR, required=True, variant=True),
            attribute("size", "Size EU", {"s-38": "38", "s-40": "40"}, variant=True),
        ),
        "a12": category(
            "a12",
            attribute("colour", "Colour", {"c-red": "Red", "c-green": "Green"}, required=True),
            attribute("material", "Material", {"m-cotton": "Cotton"}, allow_custom_value=True),
        ),
        "a2": category("a2", attribute("size", "Size EU", {"s-40": "40", "s-42": "42"})),
        "h1": category("h1"),
    }


class FakeChannel(ChannelIntegration):
    """Returns whatever the test put in its attributes; ``broken`` categories raise."""

    def __init__(self) -> None:
        context = IntegrationContext(1, 1, logging.getLogger("tests.fake_channel"))
        super().__init__(ChannelConfig(), context)
        self.tree = marketplace_tree()
        self.categories = category_attributes()
        self.attributes: list[AttributeDto] = []
        self.broken: set[str] = set()
        self.delay = 0.0
        self.calls: list[str] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def check_connection(self) -> None:
        return None

    def get_channel_conf_schema(self) -> list[ChannelConfSchemaField]:
        return [
            ChannelConfSchemaField(key="api_url", label="API URL", data_type=ConfDataType.URL),
            ChannelConfSchemaField(key="CUSTOMER_IDENTIFIER_FIELD", label="Who", required=True),
        ]

    def get_category_tree_and_nodes(self) -> CategoryTreeDto:
        return self.tree

    def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
        with self.lock:
            self.calls.append(category_remote_id)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay)
            if category_remote_id in self.broken:
                raise ItemError(f"marketplace refused category {category_remote_id}")
            return self.categories[category_remote_id]
        finally:
            with self.lock:
                self.active -= 1

    def get_attributes(self) -> list[AttributeDto]:
        return self.attributes


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed=5) as running:
        yield running


@pytest.fixture(params=["one_client", "pool"])
def omnitron(sim: OmnitronSim, request: pytest.FixtureRequest) -> Iterator[OmnitronIntegration]:
    """The port on one client, and on a pool of clients (as a worker runs it): with the pool,
    categories are written side by side."""
    sim.reset()

    def client() -> OmnitronClient:
        return OmnitronClient(sim.url, "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache())

    if request.param == "pool":
        integration = OmnitronIntegration(client(), client_factory=client, concurrency=8)
    else:
        integration = OmnitronIntegration(client())
    yield integration
    integration.close()
    sim.call("DELETE", "/_sandbox/faults/")


@pytest.fixture
def api(sim: OmnitronSim) -> ApiClient:
    return sim.client()


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


def mappings(api: ApiClient, model: str) -> dict[str, int]:
    rows = api.all_pages(f"/channel/1/integration_actions/?content_type_name={model}", 500)
    found: dict[str, int] = {}
    for row in rows:
        assert row["remote_id"] not in found, f"two mappings for {row['remote_id']}"
        found[row["remote_id"]] = row["object_id"]
    return found


def nodes(api: ApiClient) -> dict[int, dict[str, Any]]:
    return {n["pk"]: n for n in api.all_pages("/channel/1/category_nodes/", 500)}


def parent_of(all_nodes: dict[int, dict[str, Any]], pk: int) -> int | None:
    parent: int | None = all_nodes[pk]["parent"]
    return parent


def assert_mirrors(api: ApiClient, tree: CategoryTreeDto) -> None:
    """Every marketplace category is one node, under the node of its parent, named alike."""
    mapped = mappings(api, "categorynode")
    all_nodes = nodes(api)
    root = api.ok("GET", "/channel/1/category_trees/1/")["category_root"]["pk"]
    stack: list[tuple[CategoryNodeDto, int]] = [(dto, root) for dto in tree.roots]
    seen = set()
    while stack:
        dto, parent = stack.pop()
        pk = mapped[dto.remote_id]
        assert all_nodes[pk]["name"] == dto.name
        assert parent_of(all_nodes, pk) == parent, dto.remote_id
        seen.add(dto.remote_id)
        stack.extend((child, pk) for child in dto.children)
    assert set(mapped) == seen
    siblings = [(n["parent"], n["name"]) for n in all_nodes.values()]
    assert len(siblings) == len(set(siblings)), "two siblings share a name"


NOTHING = {"created": 0, "adopted": 0, "updated": 0, "moved": 0, "removed": 0, "failed": 0}


def changes(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: summary[key] for key in NOTHING}


# --- conf schema -------------------------------------------------------------------------


def test_conf_schema_merges_engine_and_channel_fields_once(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    api.ok("PATCH", "/channels/1/", {"schema": {"merchant_key": {"key": "merchant_key"}}})
    first = update_channel_conf_schema(omnitron, channel)
    assert first["written"] is True and first["changed"] == []
    assert {"api_url", "remote_id_attribute", "CURRENCY_MAPPINGS", "WAREHOUSE_CODES"} <= set(
        first["added"]
    )
    schema = api.ok("GET", "/channels/1/")["schema"]
    assert schema["merchant_key"] == {"key": "merchant_key"}  # others' keys are kept
    assert schema["reason_mapping"]["data_type"] == "json"
    assert schema["CUSTOMER_IDENTIFIER_FIELD"]["required"] is True  # the channel's wins
    assert schema["api_url"] == {
        "key": "api_url",
        "label": "API URL",
        "data_type": "URL",
        "required": False,
    }
    again = update_channel_conf_schema(omnitron, channel)
    assert again["written"] is False and again["unchanged"] == again["fields"]


# --- category tree -----------------------------------------------------------------------


def test_first_run_mirrors_the_tree_and_second_changes_nothing(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    first = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert first["tree"] == 1 and first["tree_created"] is False
    assert changes(first) == {**NOTHING, "created": 6, "adopted": 1}  # seed's "Home"
    assert_mirrors(api, channel.tree)
    second = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert changes(second) == NOTHING and second["unchanged"] == 7
    assert_mirrors(api, channel.tree)


def test_tree_is_created_and_set_when_the_channel_has_none(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    api.ok("PATCH", "/channels/1/", {"category_tree": None})
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert summary["tree_created"] is True and summary["created"] == 7
    assert api.ok("GET", "/channels/1/")["category_tree"] == summary["tree"]
    again = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert again["tree"] == summary["tree"] and changes(again) == NOTHING


def test_rename_move_add_and_remove_propagate(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    kitchen = mappings(api, "categorynode")["h1"]
    channel.tree = CategoryTreeDto(
        roots=[
            node(
                "a",
                "Apparel",
                node(
                    "a1",
                    "Tops",
                    node("a11", "Shirts"),
                    node("a12", "T-shirts"),
                    node("a2", "Shoes"),
                ),
            ),
            node("h", "Home", node("h2", "Garden")),
        ]
    )
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert changes(summary) == {**NOTHING, "updated": 1, "moved": 1, "removed": 1, "created": 1}
    assert_mirrors(api, channel.tree)
    all_nodes = nodes(api)
    holding = all_nodes[parent_of(all_nodes, kitchen) or 0]
    assert holding["name"] == HOLDING and all_nodes[kitchen]["name"] == "Kitchen"
    again = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert changes(again) == NOTHING


def test_swapped_names_and_a_category_moving_under_its_old_child(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)

    def shape(first: str, second: str) -> CategoryTreeDto:
        apparel = node("a", "Apparel", node("a2", "Shoes"), node("a12", first), node("a11", second))
        return CategoryTreeDto(
            roots=[node("a1", "Tops", apparel), node("h", "Home", node("h1", "Kitchen"))]
        )

    channel.tree = shape("Shirts", "Tees")  # Tops and Apparel trade places, names swap
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert summary["failed"] == 0 and summary["moved"] == 4 and summary["updated"] == 2
    assert_mirrors(api, channel.tree)
    channel.tree = shape("Tees", "Shirts")  # and back, in place
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert changes(summary) == {**NOTHING, "updated": 2}
    assert_mirrors(api, channel.tree)
    assert changes(create_or_update_category_tree_and_nodes(omnitron, channel)) == NOTHING


def test_delete_mode_deletes_the_subtree(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    tops = mappings(api, "categorynode")["a1"]
    channel.tree = CategoryTreeDto(roots=[node("a", "Apparel", node("a2", "Shoes"))])
    summary = create_or_update_category_tree_and_nodes(omnitron, channel, removal="delete")
    assert summary["removed"] == 5 and summary["failed"] == 0  # a1, a11, a12, h, h1
    assert api.get(f"/channel/1/category_nodes/{tops}/")[0] == 404
    assert_mirrors(api, channel.tree)


def test_crash_between_node_and_mapping_is_repaired_without_duplicates(
    omnitron: OmnitronIntegration,
    channel: FakeChannel,
    api: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = setup_tree.TreeSync.map
    calls = {"n": 0}

    def dies_on_third(self: setup_tree.TreeSync, pk: int, remote_id: str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("worker killed after creating a node")
        original(self, pk, remote_id)

    monkeypatch.setattr(setup_tree.TreeSync, "map", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        create_or_update_category_tree_and_nodes(omnitron, channel)
    monkeypatch.setattr(setup_tree.TreeSync, "map", original)
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert summary["adopted"] >= 1 and summary["failed"] == 0
    assert_mirrors(api, channel.tree)


def test_lost_answers_of_node_and_mapping_posts_are_repaired(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient, sim: OmnitronSim
) -> None:
    rules = [
        {"pattern": "/category_nodes/$", "action": "lost_response", "times": 2},
        {"pattern": "/integration_actions/$", "action": "lost_response", "times": 2},
    ]
    sim.call("POST", "/_sandbox/faults/", {"rules": rules, "replace": True})
    summary = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert summary["failed"] == 0 and summary["created"] == 6
    assert [rule["fired"] for rule in sim.inspect("faults/")["rules"]] == [2, 2]
    assert_mirrors(api, channel.tree)


def test_unanswered_mapping_post_fails_the_node_and_the_next_run_adopts_it(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient, sim: OmnitronSim
) -> None:
    """Every mapping POST is dropped: nodes get created but never mapped; their children
    cannot be placed. The next run adopts each orphan by name instead of creating another."""
    rules = [{"pattern": "/integration_actions/$", "action": "drop", "methods": ["POST"]}]
    sim.call("POST", "/_sandbox/faults/", {"rules": rules, "replace": True})
    broken = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert broken["failed"] == 7 and mappings(api, "categorynode") == {}
    sim.call("DELETE", "/_sandbox/faults/")
    repaired = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert repaired["adopted"] == 2 and repaired["created"] == 5 and repaired["failed"] == 0
    assert_mirrors(api, channel.tree)


# --- category attributes ------------------------------------------------------------------


def test_category_attributes_created_once_and_a_failing_category_does_not_stop_others(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    channel.broken = {"a2"}
    channel.delay = 0.05
    first = create_or_update_category_attributes(omnitron, channel, workers=4)
    assert channel.max_active > 1  # the channel calls ran concurrently
    assert sorted(channel.calls) == ["a11", "a12", "a2", "h1"]  # leaves only
    assert first["categories"] == 3 and first["failed"] == 1
    assert first["attribute_sets_created"] == 3 and first["set_configs_created"] == 3
    assert first["attributes_created"] == 3 and first["values_created"] == 6
    assert first["attribute_configs_created"] == 4 and first["value_configs_created"] == 7
    reports = api.all_pages("/channel/1/error_reports/")
    assert any("a2" in r["error_code"] and "refused" in r["error_desc"] for r in reports)

    sets = api.all_pages("/channel/1/attribute_sets/?remote_id=a11")
    assert len(sets) == 1 and sets[0]["name"] == "Set a11"
    configs = api.all_pages(f"/channel/1/attribute_configs/?attribute_set={sets[0]['pk']}")
    colour = mappings(api, "marketplaceattribute")["colour"]
    by_attribute = {c["attribute"]: c for c in configs}
    assert by_attribute[colour]["is_required"] and by_attribute[colour]["is_variant"]
    assert by_attribute[colour]["attribute_remote_id"] == "colour"
    values = mappings(api, "marketplaceattributevalue")
    red = api.ok("GET", f"/channel/1/attribute_values/{values['c-red']}/")
    assert (red["label"], red["value"], red["attribute"]) == ("Red", "c-red", colour)

    channel.broken = set()
    second = create_or_update_category_attributes(omnitron, channel)
    created = {k: v for k, v in second.items() if k.endswith("_created") and v}
    assert created == {
        "attribute_sets_created": 1,
        "set_configs_created": 1,
        "attribute_configs_created": 1,
        "value_configs_created": 2,
        "values_created": 1,  # s-42, only a2 has it
    }
    assert second["categories"] == 4 and second["failed"] == 0
    third = create_or_update_category_attributes(omnitron, channel)
    assert third["categories"] == 4
    assert {k: v for k, v in third.items() if k != "categories" and v} == {}


def test_categories_are_written_side_by_side_on_a_pooled_port(
    omnitron: OmnitronIntegration,
    channel: FakeChannel,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    active, most, lock = [0], [0], threading.Lock()
    create = omnitron.create_attribute_set

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.1)
            return create(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(omnitron, "create_attribute_set", slow_create)
    summary = create_or_update_category_attributes(omnitron, channel)
    assert summary["attribute_sets_created"] == 4 and summary["failed"] == 0
    pooled = request.node.callspec.params["omnitron"] == "pool"
    assert most[0] > 1 if pooled else most[0] == 1


def test_attribute_writes_lost_or_unmapped_are_repaired_without_duplicates(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient, sim: OmnitronSim
) -> None:
    """First every answer to a create is lost once; then every mapping POST of attributes
    and values is dropped (objects created, never mapped). The next clean run adopts the
    orphans (attribute by name, value by its value) instead of creating them again."""
    create_or_update_category_tree_and_nodes(omnitron, channel)
    lost = [
        {"pattern": f"/{name}/$", "action": "lost_response", "times": 1}
        for name in ("attributes", "attribute_values", "attribute_sets", "attribute_configs")
    ]
    sim.call("POST", "/_sandbox/faults/", {"rules": lost, "replace": True})
    first = create_or_update_category_attributes(omnitron, channel, limit=2, workers=1)
    assert first["failed"] == 0 and first["categories"] == 2
    assert all(rule["fired"] == 1 for rule in sim.inspect("faults/")["rules"])
    dropped = [{"pattern": "/integration_actions/$", "action": "drop", "methods": ["POST"]}]
    sim.call("POST", "/_sandbox/faults/", {"rules": dropped, "replace": True})
    broken = create_or_update_category_attributes(omnitron, channel, limit=2, workers=1)
    assert broken["failed"] == 2 and broken["attributes_failed"] > 0
    sim.call("DELETE", "/_sandbox/faults/")
    repaired = create_or_update_category_attributes(omnitron, channel, workers=1)
    assert repaired["failed"] == 0 and repaired["categories"] == 4
    assert repaired["attributes_adopted"] + repaired["values_adopted"] > 0
    names = [a["name"] for a in api.all_pages("/channel/1/attributes/")]
    assert len(names) == len(set(names))
    values = api.all_pages("/channel/1/attribute_values/", 500)
    pairs = [(v["attribute"], v["value"]) for v in values]
    assert len(pairs) == len(set(pairs)), "a value was created twice"
    assert len(mappings(api, "marketplaceattributevalue")) == 7
    sets = [s["remote_id"] for s in api.all_pages("/channel/1/attribute_sets/")]
    assert len(sets) == len(set(sets))
    again = create_or_update_category_attributes(omnitron, channel)
    assert {k: v for k, v in again.items() if k != "categories" and v} == {}


def test_changed_flags_and_labels_are_updated(
    omnitron: OmnitronIntegration, channel: FakeChannel
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    create_or_update_category_attributes(omnitron, channel)
    channel.categories["a11"] = category(
        "a11",
        attribute("colour", "Colour", {"c-red": "Rouge", "c-blue": "Blue"}, variant=True),
        attribute("size", "Size EU", {"s-38": "38", "s-40": "40"}, variant=True),
    )
    summary = create_or_update_category_attributes(omnitron, channel)
    assert summary["attribute_configs_updated"] == 1 and summary["values_updated"] == 1
    assert summary["values_created"] == 0 and summary["attributes_created"] == 0


def test_least_recently_refreshed_categories_go_first(
    omnitron: OmnitronIntegration, channel: FakeChannel
) -> None:
    create_or_update_category_tree_and_nodes(omnitron, channel)
    create_or_update_category_attributes(omnitron, channel, limit=2, workers=1)
    first = list(channel.calls)
    channel.calls.clear()
    create_or_update_category_attributes(omnitron, channel, limit=2, workers=1)
    assert len(first) == 2 and sorted(first + channel.calls) == ["a11", "a12", "a2", "h1"]
    channel.calls.clear()
    create_or_update_category_attributes(omnitron, channel, limit=2, workers=1)
    assert channel.calls == first


# --- global attributes --------------------------------------------------------------------


def test_global_attributes_created_once_then_updated(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient
) -> None:
    channel.attributes = [
        AttributeDto(
            remote_id="g-colour",
            name="Colour",
            values=[AttributeValueDto(remote_id="g-red", name="Red")],
        ),
        AttributeDto(remote_id="g-brand", name="Brand name"),
    ]
    first = create_or_update_attributes(omnitron, channel)
    assert first["attributes"] == 2 and first["attributes_created"] == 2
    assert first["values_created"] == 1 and first["schemas_created"] == 2
    second = create_or_update_attributes(omnitron, channel)
    assert {k: v for k, v in second.items() if k != "attributes" and v} == {}
    channel.attributes[0] = AttributeDto(
        remote_id="g-colour",
        name="Color",
        values=[
            AttributeValueDto(remote_id="g-red", name="Red!"),
            AttributeValueDto(remote_id="g-blue", name="Blue"),
        ],
    )
    third = create_or_update_attributes(omnitron, channel)
    assert third["attributes_updated"] == 1 and third["values_updated"] == 1
    assert third["values_created"] == 1 and third["attributes_created"] == 0
    assert set(mappings(api, "marketplaceattribute")) == {"g-colour", "g-brand"}


def test_unsupported_commands_are_skipped(omnitron: OmnitronIntegration) -> None:
    class Bare(ChannelIntegration):
        unsupported: ClassVar[dict[str, str]] = {"get_channel_conf_schema": "no settings form"}

        def check_connection(self) -> None:
            return None

    bare = Bare(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("bare")))
    for flow in (
        update_channel_conf_schema,
        create_or_update_category_tree_and_nodes,
        create_or_update_category_attributes,
        create_or_update_attributes,
    ):
        assert "skipped" in flow(omnitron, bare)


# --- rows Omnitron sends that we cannot read ------------------------------------------------


class ReportedOnce:
    """The report-once memory (a ``FailureBook`` in production), in a set."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, int, str]] = set()

    def first_report(self, model: str, pk: int, fingerprint: str) -> bool:
        new = (model, pk, fingerprint) not in self.seen
        self.seen.add((model, pk, fingerprint))
        return new


def reports_on(api: ApiClient, model: str, pk: int) -> list[dict[str, Any]]:
    kind = api.ok("GET", f"/content_types/?model={model}")["results"][0]["id"]
    return [
        r
        for r in api.all_pages("/channel/1/error_reports/")
        if r["action_content_type"] == kind and r["action_object_id"] == pk
    ]


def test_an_unreadable_category_node_is_reported_once_and_left_as_it_is(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient, sim: OmnitronSim
) -> None:
    omnitron.reports = ReportedOnce()
    create_or_update_category_tree_and_nodes(omnitron, channel)
    before = mappings(api, "categorynode")
    tops = before["a1"]
    plant(sim, "category_nodes", tops, name=None)
    for _ in range(2):
        summary = create_or_update_category_tree_and_nodes(omnitron, channel)
        assert summary["failed"] == 3  # Tops, and Shirts and Tees under it: left alone
        assert summary["stale_mappings_removed"] == 0 and summary["created"] == 0
        assert mappings(api, "categorynode") == before  # nothing unmapped, nothing twice
    [report] = reports_on(api, "categorynode", tops)
    assert "cannot read" in report["error_desc"] and "name" in report["error_desc"]
    plant(sim, "category_nodes", tops, name="Tops")
    fixed = create_or_update_category_tree_and_nodes(omnitron, channel)
    assert changes(fixed) == NOTHING
    assert_mirrors(api, channel.tree)


def test_an_unreadable_attribute_keeps_its_mapping_and_is_not_created_twice(
    omnitron: OmnitronIntegration, channel: FakeChannel, api: ApiClient, sim: OmnitronSim
) -> None:
    omnitron.reports = ReportedOnce()
    channel.attributes = [
        AttributeDto(
            remote_id="g-colour",
            name="Colour",
            values=[AttributeValueDto(remote_id="g-red", name="Red")],
        ),
        AttributeDto(remote_id="g-brand", name="Brand name"),
    ]
    create_or_update_attributes(omnitron, channel)
    before = mappings(api, "marketplaceattribute")
    count = len(api.all_pages("/channel/1/attributes/"))
    plant(sim, "attributes", before["g-colour"], name=None)
    summary = create_or_update_attributes(omnitron, channel)
    assert summary["attributes_failed"] == 1 and summary["attributes_created"] == 0
    assert mappings(api, "marketplaceattribute") == before
    assert len(api.all_pages("/channel/1/attributes/")) == count
    assert len(reports_on(api, "marketplaceattribute", before["g-colour"])) == 1
