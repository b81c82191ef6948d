"""Mirror the marketplace's category tree into the channel's category tree in Omnitron.

Each marketplace category is one Omnitron category node, tied to it by a ``categorynode``
integration action (node pk <-> marketplace remote id). One run:

1. reads the marketplace tree, the channel's tree (created and set on the channel when there
   is none), every node of that tree (one paged listing, not one call per node) and every
   ``categorynode`` mapping of the channel (one paged listing);
2. walks the marketplace tree parents first, and for each category creates the node (or
   adopts a same-named unmapped sibling: the repair of a run that died between creating a
   node and mapping it), renames it, or moves it under its new parent;
3. detaches (default) or deletes the nodes whose category disappeared from the marketplace,
   and deletes their mappings.

An empty marketplace tree while categories are mapped is refused (nothing is removed): a
marketplace without a single category is an answer gone wrong, and obeying it would detach
every node the products are linked to.

A node or mapping row Omnitron sends that we cannot read is reported (once) and left exactly
as it is: its mapping is kept, its category is counted as failed, and nothing under it is
moved or created, since what it holds is unknown.

Every write is idempotent or looked up before it is repeated, so a crash anywhere leaves a
state the next run completes without duplicates: a node without mapping is adopted by name, a
mapping pointing at a node that is gone or outside the tree is deleted, a removed node already
under the holding node only loses its mapping. Nodes without a mapping (the merchant's own)
are never renamed, moved or deleted, except when they sit inside a removed subtree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from channel_app_template.akinon.models import CategoryNode, CategoryTree, IntegrationAction
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import CategoryNodeDto, CategoryTreeDto
from channel_app_template.core.budget import Budget
from channel_app_template.core.setup.common import NODE, Tally, logger, report
from channel_app_template.errors import AmbiguousWriteError, ItemError, RunError

RemovalMode = Literal["detach", "delete"]
HOLDING_NAME = "Removed from marketplace"
NAME_LIMIT = 64  # Omnitron's category node name length
NEVER_REFRESHED = "2000-01-01T00:00:00.000000Z"
"""``version_date`` of a new node mapping: sorts before every refreshed category whatever the
database does with nulls, so the attributes flow reads new categories first."""
TREE_KEYS = (
    "created",
    "adopted",
    "updated",
    "moved",
    "removed",
    "unchanged",
    "failed",
    "stale_mappings_removed",
)
CODE = "Omnitron-CreateOrUpdateCategoryTreeAndNodes"


@dataclass
class LocalNode:
    pk: int
    name: str
    parent: int | None


@dataclass
class LocalTree:
    """What we know of the Omnitron tree, kept in step with every write we make."""

    root: int
    nodes: dict[int, LocalNode] = field(default_factory=dict)
    children: dict[int, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, root: CategoryNode, nodes: Iterable[CategoryNode]) -> LocalTree:
        """Parents come from the materialized paths (``path`` minus one step), which every
        node listing carries; the step length is the root's path length per depth level."""
        root_path = root.path or ""
        step = len(root_path) // max(root.depth or 1, 1)
        if not root_path or step < 1:
            raise RunError(f"category tree root {root.pk} has no usable path")
        rows = [n for n in nodes if n.pk is not None and (n.path or "").startswith(root_path)]
        by_path = {str(n.path): n.key for n in rows}
        tree = cls(root.key)
        for node in rows:
            path = str(node.path)
            # a node whose parent was not listed (moved while we paged) gets parent None:
            # kept, so its mapping survives, and moved back into place if it is ours
            tree.add(node.key, node.name, None if path == root_path else by_path.get(path[:-step]))
        if root.key not in tree.nodes:
            tree.add(root.key, root.name, None)
        return tree

    def add(self, pk: int, name: str, parent: int | None) -> None:
        self.nodes[pk] = LocalNode(pk, name, parent)
        if parent is not None:
            self.children.setdefault(parent, {})[name] = pk

    def child_named(self, parent: int, name: str) -> int | None:
        return self.children.get(parent, {}).get(name)

    def rename(self, pk: int, name: str) -> None:
        node = self.nodes[pk]
        if node.parent is not None:
            siblings = self.children.setdefault(node.parent, {})
            if siblings.get(node.name) == pk:
                del siblings[node.name]
            siblings[name] = pk
        node.name = name

    def move(self, pk: int, parent: int) -> None:
        node = self.nodes[pk]
        if node.parent is not None and self.children.get(node.parent, {}).get(node.name) == pk:
            del self.children[node.parent][node.name]
        node.parent = parent
        self.children.setdefault(parent, {})[node.name] = pk

    def subtree(self, pk: int) -> list[int]:
        found, todo = [], [pk]
        while todo:
            current = todo.pop()
            found.append(current)
            todo.extend(self.children.get(current, {}).values())
        return found

    def drop(self, pk: int) -> None:
        parent = self.nodes[pk].parent
        if parent is not None and self.children.get(parent, {}).get(self.nodes[pk].name) == pk:
            del self.children[parent][self.nodes[pk].name]
        for gone in self.subtree(pk):
            self.nodes.pop(gone, None)
            self.children.pop(gone, None)

    def has_ancestor_in(self, pk: int, pks: set[int]) -> bool:
        parent = self.nodes[pk].parent
        while parent is not None:
            if parent in pks:
                return True
            parent = self.nodes[parent].parent if parent in self.nodes else None
        return False


def is_refusal(error: Exception) -> bool:
    """A write this one object cannot get (4xx, a 405 for a route this Omnitron lacks) or
    whose outcome is unknown: fail the object, not the run. Other run errors propagate."""
    if isinstance(error, ItemError | AmbiguousWriteError):
        return True
    return isinstance(error, RunError) and error.status_code == 405


def clip(name: str) -> str:
    return name.strip()[:NAME_LIMIT]


def temporary_name(name: str, pk: int) -> str:
    suffix = f" ~{pk}"
    return name[: NAME_LIMIT - len(suffix)] + suffix


class TreeSync:
    """One run of the tree flow (see the module docstring)."""

    def __init__(
        self,
        omnitron: OmnitronIntegration,
        removal: RemovalMode = "detach",
        budget: Budget | None = None,
    ) -> None:
        if removal not in ("detach", "delete"):
            raise ValueError(f"unknown removal mode {removal!r}")
        self.omnitron = omnitron
        self.budget = budget or Budget.unlimited()
        self.unreadable: set[int] = set()  # nodes that exist but could not be read
        self.removal = removal
        self.tally = Tally()
        self.tree_created = False
        self.local: LocalTree | None = None
        self.by_remote: dict[str, int] = {}  # remote id -> node pk
        self.remote_of: dict[int, str] = {}  # node pk -> remote id
        self.blank: dict[int, IntegrationAction] = {}  # node pk -> mapping without remote id
        self.action_of: dict[int, int] = {}  # node pk -> its mapping's pk
        self.placed: set[str] = set()

    # --- the run -----------------------------------------------------------------------

    def run(self, marketplace: CategoryTreeDto) -> dict[str, Any]:
        tree = self.ensure_tree()
        root = self.root_of(tree)
        self.local = self.read_tree(root)
        self.load_mappings()
        wanted = self.flatten(marketplace)
        if not wanted and self.by_remote:
            raise RunError(
                f"the channel's category tree is empty while {len(self.by_remote)} categories "
                "are mapped; nothing was removed (an empty answer is not a catalog)"
            )
        present = {dto.remote_id for dto, _ in wanted}
        for dto, parent_remote in wanted:
            self.budget.check()
            self.place_one(dto, parent_remote)
            self.budget.progressed()
        self.remove_missing(present)
        return self.tally.summary(TREE_KEYS, tree=tree.key, tree_created=self.tree_created)

    def read_tree(self, root: CategoryNode) -> LocalTree:
        """Every node of the tree, one paged listing; nodes we cannot read are reported
        and remembered in :attr:`unreadable` (they exist: never unmapped or recreated)."""
        query = self.omnitron.nodes_under(root)
        rows: list[CategoryNode] = []
        for page in query.read_pages():
            rows += page.items
            for row in page.unreadable:
                query.on_unreadable(row)
                if row.pk is not None:
                    self.unreadable.add(row.pk)
        return LocalTree.read(root, rows)

    @property
    def tree(self) -> LocalTree:
        assert self.local is not None
        return self.local

    def ensure_tree(self) -> CategoryTree:
        """The channel's tree; else one named after the channel (so a tree whose creation
        answer was lost is found by name instead of created twice), set on the channel."""
        channel = self.omnitron.current_channel()
        if channel.category_tree:
            return self.omnitron.category_tree(channel.category_tree)
        name = f"Sales Channel Tree {channel.key}"
        tree = self.omnitron.category_tree_named(name)
        if tree is None:
            tree = self.omnitron.create_category_tree(name)
            self.tree_created = True
        self.omnitron.use_category_tree(tree.key)
        return tree

    def root_of(self, tree: CategoryTree) -> CategoryNode:
        root = tree.category_root
        if root is None:
            raise RunError(f"category tree {tree.key} has no root node")
        if not root.path:
            root = self.omnitron.category_node(root.key)
        return root

    def load_mappings(self) -> None:
        """Every ``categorynode`` mapping of the channel, in one paged listing (it also finds
        the mappings of categories that left the marketplace, which a ``remote_id__in``
        lookup by the marketplace's ids cannot). Mappings of nodes that are gone or outside
        the channel's tree, and second mappings of one remote id, are deleted."""
        for action in self.omnitron.mappings(NODE, sort="id", page_size=500):
            if action.object_id is None or action.model_name not in (None, NODE):
                continue
            node = action.object_id
            missing = node not in self.tree.nodes and node not in self.unreadable
            stale = missing or node == self.tree.root
            duplicate = bool(action.remote_id) and action.remote_id in self.by_remote
            if stale or duplicate or node in self.remote_of or node in self.blank:
                self.omnitron.forget_mapping(action.key)
                self.tally["stale_mappings_removed"] += 1
            elif not action.remote_id:
                self.blank[node] = action
            else:
                self.by_remote[action.remote_id] = node
                self.remote_of[node] = action.remote_id
                self.action_of[node] = action.key

    @staticmethod
    def flatten(
        marketplace: CategoryTreeDto,
    ) -> list[tuple[CategoryNodeDto, str | None]]:
        """Breadth first (parents before children); a remote id seen twice keeps its first
        place, the marketplace's mistake is logged."""
        out: list[tuple[CategoryNodeDto, str | None]] = []
        seen: set[str] = set()
        queue: deque[tuple[CategoryNodeDto, str | None]] = deque(
            (root, None) for root in marketplace.roots
        )
        while queue:
            dto, parent = queue.popleft()
            if dto.remote_id in seen:
                logger.warning("marketplace category %s appears twice; kept once", dto.remote_id)
                continue
            seen.add(dto.remote_id)
            out.append((dto, parent))
            queue.extend((child, dto.remote_id) for child in dto.children)
        return out

    # --- create, rename, move ----------------------------------------------------------

    def place_one(self, dto: CategoryNodeDto, parent_remote: str | None) -> None:
        parent = self.tree.root if parent_remote is None else self.by_remote.get(parent_remote)
        if parent is None or (parent_remote is not None and parent_remote not in self.placed):
            self.tally["failed"] += 1  # its parent failed: it cannot be placed this run
            return
        if self.by_remote.get(dto.remote_id) in self.unreadable:
            self.tally["failed"] += 1  # reported when it was read; left as it is
            return
        try:
            self.place(dto, parent)
            self.placed.add(dto.remote_id)
        except (ItemError, AmbiguousWriteError, RunError) as error:
            if not is_refusal(error):
                raise
            self.tally["failed"] += 1
            logger.warning("category %s could not be placed: %s", dto.remote_id, error)
            report(self.omnitron, NODE, parent, code=f"{CODE}-{dto.remote_id}", error=error)

    def place(self, dto: CategoryNodeDto, parent: int) -> None:
        name = clip(dto.name)
        pk = self.by_remote.get(dto.remote_id)
        if pk is None:
            self.create_or_adopt(dto.remote_id, name, parent)
            return
        node = self.tree.nodes[pk]
        if node.parent == parent and node.name == name:
            self.tally["unchanged"] += 1
            return
        renamed = node.name != name
        self.make_room(parent, name, pk)
        if node.parent != parent:
            if self.tree.child_named(parent, node.name) not in (None, pk):
                # its current name is taken under the new parent: rename before moving
                first = name if self.tree.child_named(node.parent or 0, name) is None else None
                self.rename(pk, first or temporary_name(name, pk))
            self.move(pk, parent)
            self.tally["moved"] += 1
        if node.name != name:
            self.rename(pk, name)
        if renamed:
            self.tally["updated"] += 1

    def make_room(self, parent: int, name: str, pk: int | None) -> None:
        """Free ``name`` under ``parent`` for node ``pk``. A mapped node still waiting for its
        own rename, move or removal gets a temporary name (swaps and shifts of names);
        a node already in its final place, or one that is not ours, is a real conflict."""
        holder = self.tree.child_named(parent, name)
        if holder is None or holder == pk:
            return
        remote = self.remote_of.get(holder)
        if remote is None or remote in self.placed:
            raise ItemError(f"another category node ({holder}) is already named {name!r} here")
        self.rename(holder, temporary_name(name, holder))

    def create_or_adopt(self, remote_id: str, name: str, parent: int) -> None:
        holder = self.tree.child_named(parent, name)
        if holder is not None and holder not in self.remote_of:
            pk = holder  # ours from a run that died before mapping it, or the merchant's
            self.tally["adopted"] += 1
        else:
            self.make_room(parent, name, None)
            pk = self.create_node(parent, name)
        self.map(pk, remote_id)

    def create_node(self, parent: int, name: str, *, count: bool = True) -> int:
        try:
            node = self.omnitron.create_category_node(parent, name)
        except AmbiguousWriteError:
            found = self.find_child(parent, name)
            node_pk = (
                found if found is not None else self.omnitron.create_category_node(parent, name).key
            )
            self.tally["created"] += count
        except ItemError:
            found = self.find_child(parent, name)  # "name exists": created meanwhile
            if found is None or found in self.remote_of:
                raise
            self.tally["adopted"] += 1
            node_pk = found
        else:
            node_pk = node.key
            self.tally["created"] += count
        if node_pk not in self.tree.nodes:
            self.tree.add(node_pk, name, parent)
        return node_pk

    def find_child(self, parent: int, name: str) -> int | None:
        detailed = self.omnitron.category_node(parent, detailed=True)
        for child in detailed.children or []:
            if child.get("name") == name and child.get("pk") is not None:
                return int(child["pk"])
        return None

    def map(self, pk: int, remote_id: str) -> None:
        blank = self.blank.pop(pk, None)
        if blank is not None:
            action = self.omnitron.update_mapping(blank.key, remote_id=remote_id)
        else:
            action = self.omnitron.map_object(NODE, pk, remote_id, version_date=NEVER_REFRESHED)
        self.by_remote[remote_id] = pk
        self.remote_of[pk] = remote_id
        self.action_of[pk] = action.key

    def rename(self, pk: int, name: str) -> None:
        self.omnitron.rename_category_node(pk, name)
        self.tree.rename(pk, name)

    def move(self, pk: int, parent: int) -> None:
        self.omnitron.move_category_node(pk, parent)
        self.tree.move(pk, parent)

    # --- removal -----------------------------------------------------------------------

    def remove_missing(self, present: set[str]) -> None:
        """Categories gone from the marketplace: node first (detached or deleted), mapping
        after, so a crash in between is finished by the next run, never leaves an orphan
        mapping in use."""
        gone = {pk for remote, pk in self.by_remote.items() if remote not in present}
        self.tally["failed"] += len(gone & self.unreadable)
        gone -= self.unreadable
        if not gone:
            return
        holding = self.tree.child_named(self.tree.root, HOLDING_NAME)
        tops = [pk for pk in sorted(gone) if not self.tree.has_ancestor_in(pk, gone)]
        for top in tops:
            self.budget.check()
            subtree = self.tree.subtree(top)
            if any(self.remote_of.get(pk) in self.placed for pk in subtree):
                # a live category is still inside (its move failed): keep all for next run
                self.tally["failed"] += sum(1 for pk in subtree if pk in gone)
                continue
            try:
                if holding is None or self.tree.nodes[top].parent != holding:
                    holding = self.detach_or_delete(top, holding)
            except (ItemError, AmbiguousWriteError, RunError) as error:
                if not is_refusal(error):
                    raise
                self.tally["failed"] += sum(1 for pk in subtree if pk in gone)
                report(self.omnitron, NODE, top, code=f"{CODE}-remove", error=error)
                continue
            for pk in subtree:
                self.unmap(pk)

    def detach_or_delete(self, pk: int, holding: int | None) -> int | None:
        if self.removal == "delete":
            try:
                self.omnitron.delete_category_node(pk)
            except (ItemError, RunError) as error:
                if not is_refusal(error):
                    raise
                logger.warning("node %s cannot be deleted (%s); detaching it instead", pk, error)
            else:
                self.tree.drop(pk)
                return holding
        if holding is None:
            holding = self.create_node(self.tree.root, HOLDING_NAME, count=False)
        name = self.tree.nodes[pk].name
        if self.tree.child_named(holding, name) is not None:
            self.rename(pk, temporary_name(name, pk))
        self.move(pk, holding)
        return holding

    def unmap(self, pk: int) -> None:
        remote = self.remote_of.pop(pk, None)
        if remote is None:
            return
        self.by_remote.pop(remote, None)
        action = self.action_of.pop(pk, None)
        if action is not None:
            self.omnitron.forget_mapping(action)
        self.tally["removed"] += 1


def sync_category_tree(
    omnitron: OmnitronIntegration,
    marketplace: CategoryTreeDto,
    removal: RemovalMode = "detach",
    budget: Budget | None = None,
) -> dict[str, Any]:
    return TreeSync(omnitron, removal, budget).run(marketplace)
