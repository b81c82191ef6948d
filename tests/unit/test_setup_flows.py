"""Setup flows without services: the pure parts, and the flows over small in-memory fakes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, cast

import pytest

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.models import (
    CategoryNode,
    CategoryTree,
    Channel,
    IntegrationAction,
)
from channel_app_template.akinon.pagination import Page, UnreadableHook
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import (
    CategoryDto,
    CategoryNodeDto,
    CategoryTreeDto,
    ChannelConfig,
    ChannelConfSchemaField,
    ChannelIntegration,
    ConfDataType,
    IntegrationContext,
)
from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.setup.attributes import AttributeSpec, Category, _merge, _pk_of
from channel_app_template.core.setup.common import Tally, now_stamp
from channel_app_template.core.setup.flows import (
    ENGINE_CONF_FIELDS,
    create_or_update_category_attributes,
    fetch_categories,
    update_channel_conf_schema,
)
from channel_app_template.core.setup.tree import (
    LocalTree,
    TreeSync,
    clip,
    is_refusal,
    temporary_name,
)
from channel_app_template.errors import AmbiguousWriteError, ItemError, RetryLater, RunError

CONTEXT = IntegrationContext(1, 1, logging.getLogger("tests.unit.setup"))


def tree_node(pk: int, path: str, depth: int, name: str | None = None) -> CategoryNode:
    return CategoryNode(pk=pk, name=name or f"n{pk}", path=path, depth=depth)


# --- the local tree ----------------------------------------------------------------------


def test_local_tree_parents_come_from_paths() -> None:
    root = tree_node(1, "0001", 1, "Root")
    rows = [
        root,
        tree_node(2, "00010001", 2),
        tree_node(3, "000100010001", 3),
        tree_node(4, "00010002", 2),
        tree_node(9, "0002", 1),  # another tree: ignored
        tree_node(8, "000100090001", 3),  # parent not listed (moving): kept, parent unknown
    ]
    tree = LocalTree.read(root, rows)
    assert {pk: n.parent for pk, n in tree.nodes.items()} == {1: None, 2: 1, 3: 2, 4: 1, 8: None}
    assert tree.child_named(1, "n2") == 2 and tree.child_named(2, "n3") == 3
    assert sorted(tree.subtree(2)) == [2, 3]
    assert tree.has_ancestor_in(3, {2}) and not tree.has_ancestor_in(4, {2})
    tree.rename(3, "x")
    assert tree.child_named(2, "x") == 3 and tree.child_named(2, "n3") is None
    tree.move(3, 4)
    assert tree.child_named(4, "x") == 3 and tree.child_named(2, "x") is None
    tree.drop(4)
    assert set(tree.nodes) == {1, 2, 8}


def test_local_tree_needs_a_root_path() -> None:
    with pytest.raises(RunError):
        LocalTree.read(CategoryNode(pk=1, name="Root"), [])


def test_flatten_is_parents_first_and_drops_repeated_remote_ids() -> None:
    def n(remote_id: str, *children: CategoryNodeDto) -> CategoryNodeDto:
        return CategoryNodeDto(name=remote_id.upper(), remote_id=remote_id, children=list(children))

    tree = CategoryTreeDto(roots=[n("a", n("a1", n("a11")), n("x")), n("b", n("x"), n("b1"))])
    order = [(dto.remote_id, parent) for dto, parent in TreeSync.flatten(tree)]
    assert order == [
        ("a", None),
        ("b", None),
        ("a1", "a"),
        ("x", "a"),
        ("b1", "b"),
        ("a11", "a1"),
    ]


def test_names_fit_omnitron() -> None:
    assert clip("  x" * 40) == ("  x" * 40).strip()[:64]
    long = temporary_name("n" * 80, 12345)
    assert len(long) == 64 and long.endswith(" ~12345")


def test_refusals_fail_the_object_other_errors_the_run() -> None:
    assert is_refusal(ItemError("400"))
    assert is_refusal(AmbiguousWriteError("lost"))
    assert is_refusal(RunError("no such route", status_code=405))
    assert not is_refusal(RunError("garbage", status_code=200))


# --- attributes ----------------------------------------------------------------------------


def test_specs_of_one_attribute_are_merged_with_all_their_values() -> None:
    merged = _merge(
        [
            AttributeSpec("c", "Colour", (("red", "Red"), ("blue", "Blue"))),
            AttributeSpec("s", "Size", (("m", "M"),)),
            AttributeSpec("c", "Color", (("red", "Rouge"), ("green", "Green"))),
        ]
    )
    assert merged["c"].name == "Colour"
    assert merged["c"].values == (("red", "Red"), ("blue", "Blue"), ("green", "Green"))
    assert list(merged) == ["c", "s"]


def test_nested_or_flat_ids() -> None:
    assert _pk_of(3) == 3 and _pk_of({"pk": 4, "name": "x"}) == 4 and _pk_of(None) is None


def test_tally_keeps_declared_keys() -> None:
    tally = Tally()
    tally["created"] += 2
    tally["extra"] += 1
    assert tally.summary(("created", "moved"), tree=1) == {
        "created": 2,
        "moved": 0,
        "extra": 1,
        "tree": 1,
    }
    assert now_stamp().endswith("Z") and len(now_stamp()) == 27


# --- fakes -----------------------------------------------------------------------------------


class FakeArea:
    """One area of the fake API: the given methods; with ``record_others``, any other call
    is recorded (name, args) and never performed, else it does not exist."""

    def __init__(self, calls: list[tuple[str, Any]], record_others: bool, **methods: Any) -> None:
        self._calls = calls
        self._record_others = record_others
        self.__dict__.update(methods)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not self._record_others:
            raise AttributeError(name)
        return lambda *args, **kwargs: self._calls.append((name, args))


class ActionRows(list[IntegrationAction]):
    """The fake's integration actions, which also answer as the API's ``actions`` area."""

    def __init__(self, owner: FakeCatalog, rows: Iterable[IntegrationAction] = ()) -> None:
        super().__init__(rows)
        self.area = FakeArea(
            owner.calls,
            owner.record_others,
            for_remote_ids=owner.integration_actions_for_remote_ids,
            find=owner.integration_actions,
            update=owner.update_integration_action,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.area, name)


class FakeCatalog:
    """Just what the unit-tested flows call of Omnitron's API, recording every call; the
    port (a real :class:`OmnitronIntegration`) runs over it."""

    channel_id = 1
    record_others = False
    on_unreadable: UnreadableHook | None = None

    def __init__(self) -> None:
        self.schema: dict[str, Any] = {}
        self.patches: list[dict[str, Any]] = []
        self.calls: list[tuple[str, Any]] = []
        self.actions = []
        self.nodes: dict[int, CategoryNode] = {}
        calls, others = self.calls, self.record_others
        self.channel = FakeArea(
            calls, others, get=self.get_channel, update_schema=self.update_channel_schema
        )
        self.categories = FakeArea(
            calls,
            others,
            nodes_by_ids=self.category_nodes_by_ids,
            tree=lambda pk: self.get_category_tree(pk),
            nodes=lambda **filters: self.category_nodes(**filters),
        )
        self.reports = FakeArea(calls, others, create=self.report_error)

    @property
    def actions(self) -> ActionRows:
        return self._actions

    @actions.setter
    def actions(self, rows: Iterable[IntegrationAction]) -> None:
        self._actions = ActionRows(self, rows)

    def get_category_tree(self, pk: int) -> CategoryTree:
        raise AttributeError("get_category_tree")

    def category_nodes(self, **filters: Any) -> Any:
        raise AttributeError("category_nodes")

    def get_channel(self) -> Channel:
        return Channel(pk=1, schema=dict(self.schema))

    def update_channel_schema(self, schema: dict[str, Any]) -> Channel:
        self.patches.append(dict(schema))
        self.schema.update(schema)
        return self.get_channel()

    def integration_actions_for_remote_ids(
        self, model: str, remote_ids: list[str]
    ) -> Iterator[IntegrationAction]:
        self.calls.append(("in", list(remote_ids)))
        return iter(a for a in self.actions if a.remote_id in remote_ids)

    def integration_actions(self, **filters: Any) -> Any:
        self.calls.append(("list", filters))
        catalog = self

        class Query:
            def __iter__(self) -> Iterator[IntegrationAction]:
                wanted = filters.get("remote_id__exact")
                return iter(a for a in catalog.actions if wanted in (None, a.remote_id))

            def pages(self) -> Iterator[list[IntegrationAction]]:
                yield sorted(catalog.actions, key=lambda a: a.version_date or "")

        return Query()

    def category_nodes_by_ids(self, pks: Any) -> Iterator[CategoryNode]:
        wanted = list(pks)
        self.calls.append(("nodes", wanted))
        return iter(self.nodes[pk] for pk in wanted if pk in self.nodes)

    def update_integration_action(self, pk: int, changes: dict[str, Any]) -> None:
        self.calls.append(("touch", pk))

    def report_error(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("report", kwargs["error_code"]))


def port_over(catalog: FakeCatalog) -> OmnitronIntegration:
    """The real port, its REST client replaced by the fake."""
    return OmnitronIntegration(cast(OmnitronClient, catalog))


def fake_omnitron() -> tuple[OmnitronIntegration, FakeCatalog]:
    catalog = FakeCatalog()
    return port_over(catalog), catalog


class SchemaChannel(ChannelIntegration):
    def check_connection(self) -> None:
        return None

    def get_channel_conf_schema(self) -> list[ChannelConfSchemaField]:
        return [
            ChannelConfSchemaField(key="token", label="API token", required=True),
            ChannelConfSchemaField(
                key="WAREHOUSE_CODES",
                label="Warehouses",
                data_type=ConfDataType.JSON,
                required=True,
            ),
        ]


def test_conf_schema_written_once_and_never_again() -> None:
    omnitron, catalog = fake_omnitron()
    catalog.schema = {"custom": {"key": "custom"}}
    channel = SchemaChannel(ChannelConfig(), CONTEXT)
    first = update_channel_conf_schema(omnitron, channel)
    assert first["written"] and first["fields"] == len(ENGINE_CONF_FIELDS) + 1
    assert catalog.schema["WAREHOUSE_CODES"]["required"] is True  # the channel's version
    assert catalog.schema["custom"] == {"key": "custom"} and "custom" not in catalog.patches[0]
    second = update_channel_conf_schema(omnitron, channel)
    assert not second["written"] and len(catalog.patches) == 1
    catalog.schema["token"] = {**catalog.schema["token"], "label": "old"}
    third = update_channel_conf_schema(omnitron, channel)
    assert third["changed"] == ["token"] and catalog.patches[-1] == {
        "token": {"key": "token", "label": "API token", "data_type": "text", "required": True}
    }


def test_remote_ids_with_commas_are_asked_one_by_one() -> None:
    omnitron, catalog = fake_omnitron()
    catalog.actions = [
        IntegrationAction(
            pk=1, object_id=10, remote_id="a", content_type={"model": "categorynode"}
        ),
        IntegrationAction(
            pk=2, object_id=11, remote_id="b,c", content_type={"model": "categorynode"}
        ),
        IntegrationAction(pk=3, object_id=12, remote_id="a", content_type={"model": "product"}),
    ]
    found = omnitron.actions_by_remote_id("categorynode", ["a", "b,c"])
    assert [a.pk for a in found] == [1, 2]
    assert catalog.calls[0] == ("in", ["a"])
    assert catalog.calls[1][1]["remote_id__exact"] == "b,c"


class SlowChannel(ChannelIntegration):
    def __init__(self) -> None:
        super().__init__(ChannelConfig(), CONTEXT)
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def check_connection(self) -> None:
        return None

    def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.02)
        with self.lock:
            self.active -= 1
        if category_remote_id == "boom":
            raise ValueError("integration bug")
        if category_remote_id == "later":
            raise RetryLater("rate limited")
        if category_remote_id == "odd":
            return "not a dto"  # type: ignore[return-value]
        return CategoryDto(remote_id=category_remote_id, name=category_remote_id)


def test_channel_calls_run_bounded_and_keep_their_order() -> None:
    channel = SlowChannel()
    picked = [Category(i, rid, 100 + i) for i, rid in enumerate(["a", "boom", "b", "odd", "c"])]
    results = fetch_categories(channel, picked, workers=3)
    assert [c.remote_id for c, _ in results] == ["a", "boom", "b", "odd", "c"]
    kinds = [type(r).__name__ for _, r in results]
    assert kinds == ["CategoryDto", "ValueError", "CategoryDto", "TypeError", "CategoryDto"]
    assert 1 < channel.peak <= 3


def test_failed_categories_are_reported_and_only_transient_ones_stay_first() -> None:
    omnitron, catalog = fake_omnitron()
    for pk, rid, numchild in ((1, "boom", 0), (2, "later", 0), (3, "parent", 2)):
        catalog.nodes[pk] = CategoryNode(pk=pk, name=rid, numchild=numchild)
        catalog.actions.append(
            IntegrationAction(pk=10 + pk, object_id=pk, remote_id=rid, version_date=f"2020-0{pk}")
        )
    summary = create_or_update_category_attributes(omnitron, SlowChannel(), workers=2)
    assert summary["failed"] == 2 and summary["categories"] == 0
    reports = [value for kind, value in catalog.calls if kind == "report"]
    assert sorted(reports) == [
        "Channel-GetCategoryAttributes-boom",
        "Channel-GetCategoryAttributes-later",
    ]
    assert [pk for kind, pk in catalog.calls if kind == "touch"] == [11]  # not "later"
    assert ("nodes", [1, 2, 3]) in catalog.calls  # one pk__in read per page


def test_unsupported_channel_is_skipped() -> None:
    omnitron, catalog = fake_omnitron()

    class Bare(ChannelIntegration):
        unsupported: ClassVar[Mapping[str, str]] = {
            "get_channel_conf_schema": "the marketplace has no settings"
        }

        def check_connection(self) -> None:
            return None

    summary = update_channel_conf_schema(omnitron, Bare(ChannelConfig(), CONTEXT))
    assert summary == {
        "skipped": "Bare does not support get_channel_conf_schema: the marketplace has no settings"
    }
    assert catalog.patches == []


def test_a_spent_budget_asks_for_no_more_categories_and_stops_the_run() -> None:
    omnitron, catalog = fake_omnitron()
    for pk, rid in ((1, "a"), (2, "b"), (3, "c")):
        catalog.nodes[pk] = CategoryNode(pk=pk, name=rid, numchild=0)
        catalog.actions.append(
            IntegrationAction(pk=10 + pk, object_id=pk, remote_id=rid, version_date=f"2020-0{pk}")
        )
    now = [0.0]
    budget = Budget(5.0, 5.0, clock=lambda: now[0])

    class Clocked(SlowChannel):
        asked: ClassVar[list[str]] = []

        def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
            self.asked.append(category_remote_id)
            now[0] += 10.0  # one slow answer spends the whole budget
            return super().get_category_attributes(category_remote_id)

    picked = [Category(pk, rid, 10 + pk) for pk, rid in ((1, "a"), (2, "b"), (3, "c"))]
    results = fetch_categories(Clocked(), picked, workers=1, budget=budget)
    assert Clocked.asked == ["a"]
    assert [type(r).__name__ for _, r in results] == [
        "CategoryDto",
        "BudgetExceeded",
        "BudgetExceeded",
    ]
    now[0] = 100.0  # spent before the first category: none asked, none failed or moved
    Clocked.asked.clear()
    with pytest.raises(BudgetExceeded):
        create_or_update_category_attributes(omnitron, Clocked(), workers=2, budget=budget)
    assert Clocked.asked == []
    assert [kind for kind, _ in catalog.calls if kind in ("report", "touch")] == []


class TreeCatalog(FakeCatalog):
    """A channel tree of one root and one mapped category, for :class:`TreeSync`; any
    write is recorded, never performed."""

    record_others = True

    def __init__(self) -> None:
        super().__init__()
        self.root = tree_node(100, "0001", 1, "Root")
        self.nodes = {100: self.root, 101: tree_node(101, "00010001", 2, "Shirts")}
        self.actions = [IntegrationAction(pk=7, object_id=101, remote_id="1001")]

    def get_channel(self) -> Channel:
        return Channel(pk=1, category_tree=5)

    def get_category_tree(self, pk: int) -> CategoryTree:
        return CategoryTree(pk=pk, name="tree", category_root=self.root)

    def category_nodes(self, **filters: Any) -> Any:
        nodes = list(self.nodes.values())

        class Query:
            def read_pages(self) -> Iterator[Page[CategoryNode]]:
                yield Page(items=nodes)

        return Query()


def test_an_empty_marketplace_tree_removes_nothing_while_categories_are_mapped() -> None:
    catalog = TreeCatalog()
    sync = TreeSync(port_over(catalog))
    with pytest.raises(RunError, match="empty while 1 categories are mapped"):
        sync.run(CategoryTreeDto(roots=[]))
    assert [kind for kind, _ in catalog.calls if kind != "list"] == []
