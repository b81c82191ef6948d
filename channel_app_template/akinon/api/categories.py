"""The channel's category trees and their nodes (a treebeard materialized-path tree)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import CategoryNode, CategoryTree
from channel_app_template.akinon.pagination import Paginated

__all__ = ["CategoriesApi"]

NODE_PAGE_SIZE = 1000


class CategoriesApi(Area):
    def create_tree(self, name: str) -> CategoryTree:
        return self._create(self._path("category_trees"), CategoryTree, {"name": name})

    def tree(self, pk: int) -> CategoryTree:
        return self._get(self._path("category_trees", pk), CategoryTree)

    def trees(self, **filters: Any) -> Paginated[CategoryTree]:
        """E.g. ``name__exact`` to find one after a lost answer."""
        return self._list(self._path("category_trees"), CategoryTree, filters)

    def create_node(self, parent: int, name: str) -> CategoryNode:
        """A 4xx (:class:`ItemError`) means a sibling already has ``name``."""
        body = {"node": parent, "name": name}
        return self._create(self._path("category_nodes"), CategoryNode, body)

    def update_node(self, pk: int, changes: Mapping[str, Any]) -> CategoryNode:
        return self._update(self._path("category_nodes", pk), CategoryNode, dict(changes))

    def node(self, pk: int, *, detailed: bool = False) -> CategoryNode:
        """``detailed``: with its ``children``."""
        parts: tuple[object, ...] = (pk, "detailed") if detailed else (pk,)
        return self._get(self._path("category_nodes", *parts), CategoryNode)

    def nodes(self, page_size: int = NODE_PAGE_SIZE, **filters: Any) -> Paginated[CategoryNode]:
        """E.g. ``path__startswith`` for a whole tree."""
        return self._list(self._path("category_nodes"), CategoryNode, filters, page_size=page_size)

    def nodes_by_ids(self, pks: Iterable[int]) -> Iterator[CategoryNode]:
        return self._by_ids(self._path("category_nodes"), CategoryNode, pks)

    def delete_node(self, pk: int) -> bool:
        """Delete a node and its subtree (idempotent; False when it was gone already).
        Omnitron refuses a tree's root (406)."""
        return self._delete(self._path("category_nodes", pk))

    def move_node(self, pk: int, target: int, position: str = "last-child") -> CategoryNode:
        """``category_nodes/move/``: the node (with its subtree) becomes a child of ``target``.

        The path is in Akinon's public docs; the body (treebeard's ``move(target, pos)``:
        ``{node, target, pos}``) is inferred. A POST, so never repeated blindly.
        """
        body = {"node": pk, "target": target, "pos": position}
        return self._create(self._path("category_nodes", "move"), CategoryNode, body)
