"""What the setup flows need from Omnitron: the channel's category tree and its nodes,
marketplace attributes and values, and the attribute sets (with their configs) that tie
them to categories.

Creates that Omnitron cannot repeat safely (POSTs) are looked up after a lost answer and
sent again only when the object is not there; Omnitron's own naming conventions (the
channel's tree, attribute schemas) live here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from channel_app_template.akinon.models import (
    Attribute,
    AttributeConfig,
    AttributeSet,
    AttributeSetConfig,
    AttributeValue,
    AttributeValueConfig,
    CategoryNode,
    CategoryTree,
    ContentType,
)
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.akinon.port.sync_state import SyncStatePort
from channel_app_template.errors import AmbiguousWriteError

__all__ = ["SetupPort", "create_once"]

logger = logging.getLogger("channel_app_template.akinon.port")

T = TypeVar("T")


def create_once(create: Callable[[], T], lookup: Callable[[], T | None]) -> T:
    """A create whose answer may be lost: after an ambiguous failure, look it up and
    create again only if it is not there."""
    try:
        return create()
    except AmbiguousWriteError:
        found = lookup()
        return found if found is not None else create()


class SetupPort(SyncStatePort):
    # --- The category tree ---------------------------------------------------------------

    def category_tree(self, pk: int) -> CategoryTree:
        return self._api().categories.tree(pk)

    def category_tree_named(self, name: str) -> CategoryTree | None:
        for tree in self._api().categories.trees(name__exact=name):
            if tree.name == name:
                return tree
        return None

    def create_category_tree(self, name: str) -> CategoryTree:
        """Created once: after a lost answer it is found by name, not created twice."""
        return create_once(
            lambda: self._api().categories.create_tree(name),
            lambda: self.category_tree_named(name),
        )

    def use_category_tree(self, pk: int) -> None:
        """Make tree ``pk`` the channel's category tree."""
        self._api().channel.set_category_tree(pk)

    def category_node(self, pk: int, *, detailed: bool = False) -> CategoryNode:
        """``detailed``: with its ``children``."""
        return self._api().categories.node(pk, detailed=detailed)

    def category_nodes(self, pks: Iterable[int]) -> Iterator[CategoryNode]:
        return self._api().categories.nodes_by_ids(pks)

    def nodes_under(self, root: CategoryNode) -> Paginated[CategoryNode]:
        """Every node of the tree whose root is ``root`` (one paged listing by path)."""
        return self._api().categories.nodes(path__startswith=root.path)

    def create_category_node(self, parent: int, name: str) -> CategoryNode:
        """A 4xx (:class:`ItemError`) means a sibling already has ``name``."""
        return self._api().categories.create_node(parent, name)

    def rename_category_node(self, pk: int, name: str) -> None:
        self._api().categories.update_node(pk, {"name": name})

    def move_category_node(self, pk: int, parent: int) -> None:
        """Make the node (with its subtree) the last child of ``parent``. The move is a POST:
        after a lost answer the node is read back and moved again only if it is not there."""
        categories = self._api().categories
        try:
            categories.move_node(pk, parent)
        except AmbiguousWriteError:
            if not self._is_child_of(pk, parent):
                categories.move_node(pk, parent)

    def delete_category_node(self, pk: int) -> None:
        """Delete the node and its subtree (gone already counts as deleted); Omnitron
        refuses a tree's root."""
        if not self._api().categories.delete_node(pk):
            logger.info("category node %s was already deleted", pk)

    def _is_child_of(self, pk: int, parent: int) -> bool:
        node, target = self.category_node(pk), self.category_node(parent)
        path, target_path = node.path or "", target.path or ""
        return path.startswith(target_path) and (node.depth or 0) == (target.depth or 0) + 1

    # --- Attributes and values ---------------------------------------------------------

    def attributes(self, pks: Iterable[int]) -> Iterator[Attribute]:
        return self._api().attributes.by_ids(pks)

    def attribute_named(self, name: str) -> Attribute | None:
        """The channel's attribute with exactly this name (names are unique per channel)."""
        for attribute in self._api().attributes.find(name__exact=name, channel=self.channel_id):
            if attribute.name == name:
                return attribute
        return None

    def create_attribute(self, name: str) -> Attribute:
        """A 4xx (:class:`ItemError`) means the name is taken."""
        return self._api().attributes.create(name)

    def rename_attribute(self, pk: int, name: str) -> None:
        self._api().attributes.update(pk, {"name": name})

    def create_attribute_schema(self, attribute_name: str) -> None:
        """The attribute schema ``"<channel id> <name> Schema"`` Akinon's app makes for each
        attribute (a 4xx: it exists)."""
        name = f"{self.channel_id} {attribute_name} Schema"
        self._api().attributes.create_schema(name, {})

    def values_of_attributes(self, attributes: Iterable[int]) -> list[AttributeValue]:
        return list(self._api().attributes.values_of(attributes))

    def create_attribute_value(self, attribute: int, label: str, value: str) -> AttributeValue:
        """``label`` is what the merchant sees, ``value`` what a mapped product carries;
        created once (after a lost answer, found by attribute and value)."""
        values = self._api().attributes
        return create_once(
            lambda: values.create_value(attribute, label, value),
            lambda: values.values(attribute=attribute, value__exact=value).first(),
        )

    def relabel_attribute_value(self, pk: int, label: str) -> None:
        self._api().attributes.update_value(pk, {"label": label})

    # --- Attribute sets and their configs --------------------------------------------------

    def attribute_sets(self, remote_ids: Iterable[str]) -> list[AttributeSet]:
        """The sets with these remote ids (each checked: ``remote_id__in`` may be ignored)."""
        wanted = set(remote_ids)
        return [
            s for s in self._api().attribute_sets.by_remote_ids(wanted) if s.remote_id in wanted
        ]

    def create_attribute_set(self, name: str, remote_id: str) -> AttributeSet:
        sets = self._api().attribute_sets
        return create_once(
            lambda: sets.create(name, remote_id),
            lambda: sets.find(remote_id__exact=remote_id).first(),
        )

    def rename_attribute_set(self, pk: int, name: str) -> None:
        self._api().attribute_sets.update(pk, {"name": name})

    def category_links(self, sets: Iterable[int]) -> list[AttributeSetConfig]:
        """The links (set configs) of these sets to category nodes."""
        return list(self._api().attribute_sets.set_configs_of(sets, ContentType.CATEGORY_NODE))

    def link_category(self, attribute_set: int, node: int) -> AttributeSetConfig:
        """Apply the set to category node ``node`` (once)."""
        sets, model = self._api().attribute_sets, ContentType.CATEGORY_NODE
        return create_once(
            lambda: sets.create_set_config(attribute_set, node, model),
            lambda: sets.set_configs(
                attribute_set=attribute_set, object_id=node, content_type__model=model
            ).first(),
        )

    def attribute_configs(self, sets: Iterable[int]) -> list[AttributeConfig]:
        return list(self._api().attribute_sets.configs_of(sets))

    def attribute_config(self, attribute_set: int, attribute: int) -> AttributeConfig | None:
        query = self._api().attribute_sets.configs(attribute_set=attribute_set, attribute=attribute)
        return query.first()

    def create_attribute_config(self, body: Mapping[str, Any]) -> AttributeConfig:
        """A 4xx means the set has a config of this attribute already (unique per pair)."""
        return self._api().attribute_sets.create_config(body)

    def update_attribute_config(self, pk: int, changes: Mapping[str, Any]) -> AttributeConfig:
        return self._api().attribute_sets.update_config(pk, changes)

    def value_configs(self, sets: Iterable[int]) -> list[AttributeValueConfig]:
        return list(self._api().attribute_sets.value_configs_of(sets))

    def allow_value(self, attribute_set: int, value: int) -> AttributeValueConfig:
        """Allow ``value`` in the set (a value config, created once)."""
        sets = self._api().attribute_sets
        return create_once(
            lambda: sets.create_value_config(attribute_set, value),
            lambda: sets.value_configs(attribute_set=attribute_set, attribute_value=value).first(),
        )
