"""Marketplace attributes and their values in Omnitron: one get-or-create, two flows.

:class:`AttributeSync` maps marketplace attributes and values to Omnitron objects through
their integration actions (``marketplaceattribute`` / ``marketplaceattributevalue``, remote id
= the marketplace's id), looked up in ``remote_id__in`` chunks, and creates what is missing.
:class:`CategorySync` adds what a category needs on top: its attribute set (``remote_id`` =
the category's remote id), the set's link to the category node, one attribute config per
attribute (required / variant / custom flags) and one value config per allowed value.

Every lookup is a bulk read (``__in`` chunks or whole listings of the few sets and attributes
at hand); writes happen only for what is missing or different, so a second run over the same
data writes nothing but each category's refresh date. An object created by a run that died
before mapping it is found again (attribute by name, value by its ``value`` = remote id) and
adopted, never created twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from channel_app_template.akinon.models import (
    Attribute,
    AttributeConfig,
    AttributeSet,
    AttributeValue,
    ContentType,
)
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import AttributeDto, CategoryDto
from channel_app_template.core.budget import Budget
from channel_app_template.core.setup.common import (
    NODE,
    Tally,
    logger,
    now_stamp,
    report,
    stamps,
)
from channel_app_template.errors import AmbiguousWriteError, ItemError

NAME_LIMIT = 255
ATTRIBUTE_KEYS = (
    "attributes_created",
    "attributes_adopted",
    "attributes_shared",
    "attributes_updated",
    "attributes_failed",
    "values_created",
    "values_adopted",
    "values_updated",
    "schemas_created",
)
CATEGORY_KEYS = (
    "categories",
    "failed",
    "attribute_sets_created",
    "attribute_sets_updated",
    "set_configs_created",
    "attribute_configs_created",
    "attribute_configs_updated",
    "value_configs_created",
    *ATTRIBUTE_KEYS,
)
WriteErrors = (ItemError, AmbiguousWriteError)
ATTRIBUTE = ContentType.MARKETPLACE_ATTRIBUTE
VALUE = ContentType.MARKETPLACE_ATTRIBUTE_VALUE


@dataclass(frozen=True)
class AttributeSpec:
    """One marketplace attribute with the values it allows: ``(remote_id, name)`` pairs."""

    remote_id: str
    name: str
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, dto: AttributeDto | Any) -> AttributeSpec:
        return cls(dto.remote_id, dto.name, tuple((v.remote_id, v.name) for v in dto.values))


def _pk_of(ref: Any) -> int | None:
    """An id that may come as an int or as a nested ``{pk, ...}`` object."""
    if isinstance(ref, dict):
        ref = ref.get("pk", ref.get("id"))
    return int(ref) if ref is not None else None


def _merge(specs: Iterable[AttributeSpec]) -> dict[str, AttributeSpec]:
    """One spec per attribute remote id; values of every category that uses it, united."""
    merged: dict[str, AttributeSpec] = {}
    for spec in specs:
        known = merged.get(spec.remote_id)
        if known is None:
            merged[spec.remote_id] = spec
            continue
        values = dict(known.values)
        values.update((rid, name) for rid, name in spec.values if rid not in values)
        merged[spec.remote_id] = AttributeSpec(known.remote_id, known.name, tuple(values.items()))
    return merged


class AttributeSync:
    """Get-or-create attributes and values; caches what it resolved for the rest of the run.

    ``attribute_of`` maps attribute remote id -> attribute pk, ``value_of`` maps
    (attribute pk, value remote id) -> value pk, ``failed`` holds the attributes that could
    not be resolved (each with an error report), so callers can fail what depends on them.
    """

    def __init__(self, omnitron: OmnitronIntegration, tally: Tally, code: str) -> None:
        self.omnitron = omnitron
        self.tally = tally
        self.code = code
        self.attribute_of: dict[str, int] = {}
        self.value_of: dict[tuple[int, str], int] = {}
        self.failed: dict[str, str] = {}

    def sync(self, specs: Iterable[AttributeSpec]) -> None:
        merged = _merge(specs)
        self._attributes(merged)
        self._values(merged)

    # --- attributes --------------------------------------------------------------------

    def _attributes(self, specs: dict[str, AttributeSpec]) -> None:
        todo = [r for r in specs if r not in self.attribute_of and r not in self.failed]
        if not todo:
            return
        actions: dict[str, list[tuple[int, int]]] = {}
        for action in self.omnitron.actions_by_remote_id(ATTRIBUTE, todo):
            if action.remote_id is not None and action.object_id is not None:
                actions.setdefault(action.remote_id, []).append((action.key, action.object_id))
        wanted = {pk for found in actions.values() for _, pk in found}
        current = {a.key: a for a in self.omnitron.attributes(wanted)} if wanted else {}
        for remote_id in todo:
            spec = specs[remote_id]
            try:
                pk = self._pick(remote_id, actions.get(remote_id, []), current)
                if pk is None:
                    pk = self._resolve_missing(spec)
                else:
                    self._rename(current[pk], spec.name)
                self.attribute_of[remote_id] = pk
            except WriteErrors as error:
                self._fail(remote_id, error)

    def _pick(
        self, remote_id: str, found: list[tuple[int, int]], current: dict[int, Attribute]
    ) -> int | None:
        """The mapped attribute that still exists; mappings to deleted ones are dropped."""
        chosen: int | None = None
        unreadable = self.omnitron.unreadable_pks(ATTRIBUTE)
        for action_pk, pk in sorted(found):
            if pk in current and chosen is None:
                chosen = pk
            elif pk in unreadable:  # it exists: its mapping stays, the attribute fails
                if chosen is None:
                    raise ItemError(f"attribute {pk} cannot be read from Omnitron")
            elif pk not in current:
                logger.info("dropping mapping %s of deleted attribute %s", action_pk, remote_id)
                self.omnitron.forget_mapping(action_pk)
        return chosen

    def _rename(self, attribute: Attribute, name: str) -> None:
        name = name.strip()[:NAME_LIMIT]
        if attribute.name == name:
            return
        try:
            self.omnitron.rename_attribute(attribute.key, name)
            self.tally["attributes_updated"] += 1
        except ItemError as error:  # the new name is taken: keep the old one, say so
            logger.warning(
                "attribute %s keeps its name %r: %s", attribute.key, attribute.name, error
            )

    def _resolve_missing(self, spec: AttributeSpec) -> int:
        """No mapping: adopt a same-named attribute, else create one. Omnitron names are
        unique per channel, so two marketplace attributes with one name share the Omnitron
        attribute; each set's attribute config keeps its own ``attribute_remote_id``."""
        name = spec.name.strip()[:NAME_LIMIT]
        pk = self._by_name(name)
        if pk is None:
            pk = self._create_attribute(name)
        else:
            owner = self.omnitron.mapping_of(ATTRIBUTE, pk)
            if owner is not None and owner.remote_id:
                self.tally["attributes_shared"] += 1
                return pk
            self.tally["attributes_adopted"] += 1
            if owner is not None:
                self.omnitron.update_mapping(owner.key, remote_id=spec.remote_id)
                return pk
        self.omnitron.map_object(ATTRIBUTE, pk, spec.remote_id, version_date=now_stamp())
        return pk

    def _by_name(self, name: str) -> int | None:
        found = self.omnitron.attribute_named(name)
        return found.key if found is not None else None

    def _create_attribute(self, name: str) -> int:
        try:
            pk = self.omnitron.create_attribute(name).key
        except AmbiguousWriteError:
            found = self._by_name(name)
            pk = found if found is not None else self.omnitron.create_attribute(name).key
        except ItemError:
            found = self._by_name(name)  # created meanwhile
            if found is None:
                raise
            return found
        self.tally["attributes_created"] += 1
        self._schema(name)
        return pk

    def _schema(self, name: str) -> None:
        """Omnitron's attribute schema ``"<channel id> <name> Schema"``, as Akinon's app
        makes one per attribute; best effort (a 4xx means it exists)."""
        try:
            self.omnitron.create_attribute_schema(name)
            self.tally["schemas_created"] += 1
        except WriteErrors as error:
            logger.info("schema of attribute %r not created: %s", name, error)

    def _fail(self, remote_id: str, error: Exception) -> None:
        self.failed[remote_id] = str(error)
        self.tally["attributes_failed"] += 1
        logger.warning("attribute %s failed: %s", remote_id, error)
        report(
            self.omnitron, ContentType.CHANNEL, None, code=f"{self.code}-{remote_id}", error=error
        )

    # --- values ------------------------------------------------------------------------

    def _values(self, specs: dict[str, AttributeSpec]) -> None:
        needed: dict[tuple[int, str], tuple[str, str]] = {}  # key -> (attribute rid, label)
        for remote_id, spec in specs.items():
            pk = self.attribute_of.get(remote_id)
            if pk is None or remote_id in self.failed:
                continue
            for value_rid, label in spec.values:
                if (pk, value_rid) not in self.value_of:
                    needed.setdefault((pk, value_rid), (remote_id, label or value_rid))
        if not needed:
            return
        existing = self.omnitron.values_of_attributes({pk for pk, _ in needed})
        by_pk = {value.key: value for value in existing}
        unreadable = self.omnitron.unreadable_pks(VALUE)
        blocked: set[str] = set()  # value remote ids mapped to a value we cannot read
        mapped: set[int] = set()
        for action in self.omnitron.actions_by_remote_id(VALUE, {rid for _, rid in needed}):
            if action.object_id in unreadable and action.remote_id is not None:
                blocked.add(action.remote_id)
            value = by_pk.get(action.object_id or 0)
            if value is None or value.attribute is None or action.remote_id is None:
                continue  # a value of another attribute (remote ids may repeat across them)
            self.value_of.setdefault((value.attribute, action.remote_id), value.key)
            mapped.add(value.key)
        for key, (attribute_rid, label) in needed.items():
            if attribute_rid in self.failed:
                continue
            try:
                if key not in self.value_of and key[1] in blocked:
                    # its value may be the unreadable one: creating another would duplicate it
                    raise ItemError(f"value {key[1]} is mapped to a value Omnitron sent unreadable")
                self._value(key, label, existing, by_pk, mapped)
            except WriteErrors as error:
                self._fail(attribute_rid, error)

    def _value(
        self,
        key: tuple[int, str],
        label: str,
        existing: Sequence[AttributeValue],
        by_pk: dict[int, AttributeValue],
        mapped: set[int],
    ) -> None:
        attribute, remote_id = key
        pk = self.value_of.get(key)
        if pk is not None:
            if by_pk[pk].label != label:
                self.omnitron.relabel_attribute_value(pk, label)
                self.tally["values_updated"] += 1
            return
        orphan = next(
            (
                v
                for v in existing
                if v.attribute == attribute and v.value == remote_id and v.key not in mapped
            ),
            None,
        )
        if orphan is not None:
            pk = orphan.key
            self.tally["values_adopted"] += 1
        else:
            pk = self._create_value(attribute, label, remote_id)
        self.omnitron.map_object(VALUE, pk, remote_id, version_date=now_stamp())
        mapped.add(pk)
        self.value_of[key] = pk

    def _create_value(self, attribute: int, label: str, remote_id: str) -> int:
        """``label`` is the marketplace's name, ``value`` its id: what a mapped product then
        carries to the channel."""
        pk = self.omnitron.create_attribute_value(attribute, label, remote_id).key
        self.tally["values_created"] += 1
        return pk


@dataclass(frozen=True)
class Category:
    """A mapped category node chosen for a refresh."""

    node: int
    remote_id: str
    action: int  # the node's integration action (its version_date is the refresh date)


class CategorySync:
    """Attribute sets, set links, attribute configs and value configs of categories."""

    def __init__(
        self, omnitron: OmnitronIntegration, tally: Tally, code: str, budget: Budget | None = None
    ) -> None:
        self.omnitron = omnitron
        self.tally = tally
        self.code = code
        self.attributes = AttributeSync(omnitron, tally, code)
        self.budget = budget or Budget.unlimited()

    def write(self, fetched: Sequence[tuple[Category, CategoryDto]]) -> None:
        """Bulk reads for all ``fetched`` categories, then each category's writes on its own:
        one that fails gets an error report and keeps its old refresh date."""
        if not fetched:
            return
        self.attributes.sync(
            AttributeSpec.of(attribute) for _, dto in fetched for attribute in dto.attributes
        )
        remote_ids = {category.remote_id for category, _ in fetched}
        sets: dict[str | None, AttributeSet] = {
            s.remote_id: s for s in self.omnitron.attribute_sets(remote_ids)
        }
        set_pks = [s.key for s in sets.values()]
        links = {(c.attribute_set, c.object_id) for c in self.omnitron.category_links(set_pks)}
        configs: dict[tuple[int, int], AttributeConfig] = {}
        for config in self.omnitron.attribute_configs(set_pks):
            set_pk, attribute = _pk_of(config.attribute_set), _pk_of(config.attribute)
            if set_pk is not None and attribute is not None:
                configs[(set_pk, attribute)] = config
        value_links = {
            (c.attribute_set, c.attribute_value) for c in self.omnitron.value_configs(set_pks)
        }

        def one(item: tuple[tuple[Category, CategoryDto], str]) -> tuple[Tally, bool]:
            (category, dto), stamp = item
            tally = Tally()
            try:
                self._one(category, dto, sets, links, configs, value_links, tally)
            except WriteErrors as error:
                logger.warning("category %s failed: %s", category.remote_id, error)
                report(
                    self.omnitron,
                    NODE,
                    category.node,
                    code=f"{self.code}-{category.remote_id}",
                    error=error,
                )
                return tally, False
            self.touch(category, stamp)
            return tally, True

        # Categories are written side by side: each has its own attribute set (its remote
        # id's), so their writes touch disjoint keys of the maps above; a sequential run
        # spent about twenty requests' latency per category.
        for window in _windows(fetched, self.omnitron.concurrency):
            self.budget.check()
            # refresh dates taken in order first: the next run meets them in that order
            jobs = list(zip(window, stamps(len(window)), strict=True))
            for tally, written in self.omnitron.map_concurrently(one, jobs):
                self.tally.update(tally)
                self.tally["categories" if written else "failed"] += 1
                self.budget.progressed()

    def touch(self, category: Category, stamp: str | None = None) -> None:
        """Move the category to the back of the refresh queue (``stamp``: its refresh date,
        by default now)."""
        self.omnitron.update_mapping(category.action, version_date=stamp or now_stamp())

    def _one(
        self,
        category: Category,
        dto: CategoryDto,
        sets: dict[str | None, AttributeSet],
        links: set[tuple[int | None, int | None]],
        configs: dict[tuple[int, int], AttributeConfig],
        value_links: set[tuple[int | None, int | None]],
        tally: Tally,
    ) -> None:
        broken = [a.remote_id for a in dto.attributes if a.remote_id in self.attributes.failed]
        if broken:
            raise ItemError(f"attributes {', '.join(broken)} could not be written")
        set_pk = self._attribute_set(category, dto, sets, tally)
        if (set_pk, category.node) not in links:
            self.omnitron.link_category(set_pk, category.node)
            links.add((set_pk, category.node))
            tally["set_configs_created"] += 1
        for attribute in dto.attributes:
            pk = self.attributes.attribute_of[attribute.remote_id]
            wanted = {
                "attribute_remote_id": attribute.remote_id,
                "is_required": attribute.required,
                "is_variant": attribute.variant,
                "is_custom": attribute.allow_custom_value,
            }
            self._config(set_pk, pk, wanted, configs, tally)
            for value in attribute.values:
                value_pk = self.attributes.value_of[(pk, value.remote_id)]
                if (set_pk, value_pk) in value_links:
                    continue
                self.omnitron.allow_value(set_pk, value_pk)
                value_links.add((set_pk, value_pk))
                tally["value_configs_created"] += 1

    def _attribute_set(
        self,
        category: Category,
        dto: CategoryDto,
        sets: dict[str | None, AttributeSet],
        tally: Tally,
    ) -> int:
        name = (dto.name.strip() or category.remote_id)[:NAME_LIMIT]
        found = sets.get(category.remote_id)
        if found is None:
            found = self.omnitron.create_attribute_set(name, category.remote_id)
            sets[category.remote_id] = found
            tally["attribute_sets_created"] += 1
        elif found.name != name:
            self.omnitron.rename_attribute_set(found.key, name)
            tally["attribute_sets_updated"] += 1
        return found.key

    def _config(
        self,
        set_pk: int,
        attribute: int,
        wanted: dict[str, Any],
        configs: dict[tuple[int, int], AttributeConfig],
        tally: Tally,
    ) -> None:
        config = configs.get((set_pk, attribute))
        if config is None:
            body = {"attribute_set": set_pk, "attribute": attribute, **wanted}
            try:
                configs[(set_pk, attribute)] = self.omnitron.create_attribute_config(body)
                tally["attribute_configs_created"] += 1
                return
            except WriteErrors:  # lost answer, or it exists (unique per set and attribute)
                config = self.omnitron.attribute_config(set_pk, attribute)
                if config is None:
                    raise
        changes = {k: v for k, v in wanted.items() if getattr(config, k) != v}
        if changes:
            config = self.omnitron.update_attribute_config(config.key, changes)
            tally["attribute_configs_updated"] += 1
        configs[(set_pk, attribute)] = config


def _windows(
    fetched: Sequence[tuple[Category, CategoryDto]], size: int
) -> Iterator[list[tuple[Category, CategoryDto]]]:
    """``fetched`` in windows of at most ``size`` categories, no remote id twice in one:
    two categories of one remote id share an attribute set, so they must not create it
    side by side."""
    rest = list(fetched)
    while rest:
        window: list[tuple[Category, CategoryDto]] = []
        later: list[tuple[Category, CategoryDto]] = []
        seen: set[str] = set()
        for item in rest:
            if len(window) < size and item[0].remote_id not in seen:
                seen.add(item[0].remote_id)
                window.append(item)
            else:
                later.append(item)
        yield window
        rest = later
