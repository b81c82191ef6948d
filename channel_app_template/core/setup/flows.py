"""The setup flows: what a channel needs in Omnitron before any product can be sent.

Four functions, one per Celery task, each ``(omnitron, channel, **options) -> summary``
where the summary is a small JSON-able dict of counts. A channel that does not implement the
command a flow needs gets ``{"skipped": "<why>"}`` and nothing is written.

* :func:`update_channel_conf_schema` - the settings form Omnitron shows for the channel.
* :func:`create_or_update_category_tree_and_nodes` - the marketplace's category tree.
* :func:`create_or_update_category_attributes` - attributes, values and their per-category
  sets and configs, for the least recently refreshed categories.
* :func:`create_or_update_attributes` - global (category-independent) attributes and values.

All four are idempotent and crash-safe: run again, they finish what a dead run left and
create nothing twice. Each takes the run's ``budget``
(:mod:`~channel_app_template.core.budget`) and checks it between categories or chunks, so a
run that stalls stops and frees its lock. Rows Omnitron sends that we cannot read are
reported on their object and never treated as missing (no mapping deleted, nothing created
twice because of them). Implementation: :mod:`.tree` and :mod:`.attributes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from channel_app_template.akinon.models import CategoryNode
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import (
    CategoryDto,
    CategoryTreeDto,
    ChannelConfSchemaField,
    ChannelIntegration,
    ConfDataType,
    UnsupportedCommand,
)
from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.setup.attributes import (
    ATTRIBUTE_KEYS,
    CATEGORY_KEYS,
    AttributeSpec,
    AttributeSync,
    Category,
    CategorySync,
)
from channel_app_template.core.setup.common import (
    NODE,
    Tally,
    ask,
    logger,
    report,
    skipped,
    unsupported,
)
from channel_app_template.core.setup.tree import RemovalMode, sync_category_tree
from channel_app_template.errors import RetryLater

__all__ = [
    "ENGINE_CONF_FIELDS",
    "create_or_update_attributes",
    "create_or_update_category_attributes",
    "create_or_update_category_tree_and_nodes",
    "update_channel_conf_schema",
]

ENGINE_CONF_FIELDS: tuple[ChannelConfSchemaField, ...] = tuple(
    ChannelConfSchemaField(key=key, label=label, data_type=data_type)
    for key, label, data_type in (
        (
            "remote_id_attribute",
            "Matching key: product field the marketplace knows (sku, attributes__barcode)",
            ConfDataType.TEXT,
        ),
        (
            "CURRENCY_MAPPINGS",
            "Extra price lists to send: {price list id: currency code}",
            ConfDataType.JSON,
        ),
        (
            "WAREHOUSE_CODES",
            "Extra stock lists to send: {stock list id: warehouse code}",
            ConfDataType.JSON,
        ),
        (
            "reason_mapping",
            "Cancellation reasons: {marketplace reason code: Omnitron reason id}",
            ConfDataType.JSON,
        ),
        (
            "CUSTOMER_IDENTIFIER_FIELD",
            "Customer identifier: email or phone_number",
            ConfDataType.TEXT,
        ),
        (
            "cancellation_reason_id",
            "Omnitron reason id for unmapped marketplace cancellations",
            ConfDataType.INTEGER,
        ),
    )
)
"""Settings the engine itself reads from ``channel.conf``; always part of the form."""


def update_channel_conf_schema(
    omnitron: OmnitronIntegration, channel: ChannelIntegration, *, budget: Budget | None = None
) -> dict[str, Any]:
    """Write the channel's settings form into ``channel.schema``.

    The channel's ``get_channel_conf_schema()`` fields, plus :data:`ENGINE_CONF_FIELDS` (a
    channel field with the same key wins), are merged into the schema Omnitron has: other
    keys stay. Nothing is written when the schema already holds exactly these fields.

    Summary: ``fields`` (how many this flow manages), ``added`` and ``changed`` (sorted
    keys), ``unchanged`` (count), ``written`` (whether a PATCH was sent); or ``skipped``.
    """
    fields: Sequence[ChannelConfSchemaField]
    fields, skip = ask(channel, "get_channel_conf_schema")
    if skip is not None:
        return skip
    wanted = {field.key: field.as_omnitron() for field in ENGINE_CONF_FIELDS}
    wanted.update({field.key: field.as_omnitron() for field in fields})
    current = omnitron.current_channel().schema_
    added = sorted(key for key in wanted if key not in current)
    changed = sorted(key for key in wanted if key in current and current[key] != wanted[key])
    if added or changed:
        omnitron.update_channel_schema({key: wanted[key] for key in (*added, *changed)})
    return {
        "fields": len(wanted),
        "added": added,
        "changed": changed,
        "unchanged": len(wanted) - len(added) - len(changed),
        "written": bool(added or changed),
    }


def create_or_update_category_tree_and_nodes(
    omnitron: OmnitronIntegration,
    channel: ChannelIntegration,
    *,
    removal: RemovalMode = "detach",
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Mirror the marketplace's category tree (``get_category_tree_and_nodes()``) into the
    channel's category tree, creating that tree (and setting it on the channel) if needed.

    Nodes are created, adopted (a same-named unmapped node under the right parent: the
    repair of a run that died before mapping it), renamed and moved so the tree matches the
    marketplace; each gets a ``categorynode`` integration action holding its remote id.
    Categories gone from the marketplace lose their mapping, and their node is

    * ``removal="detach"`` (default): moved, with its subtree, under a node named
      ``"Removed from marketplace"`` below the root. Nothing the merchant built on it
      (product links, attribute sets) is destroyed, nothing uses it any more (no remote id),
      and a category the marketplace brings back is simply created again;
    * ``removal="delete"``: deleted with its subtree; if Omnitron refuses, detached.

    Summary: ``tree`` (pk), ``tree_created``, ``created``, ``adopted``, ``updated``
    (renamed), ``moved``, ``removed``, ``unchanged``, ``failed`` (each with an error
    report), ``stale_mappings_removed``; or ``skipped``.
    """
    marketplace, skip = ask(channel, "get_category_tree_and_nodes")
    if skip is not None:
        return skip
    if not isinstance(marketplace, CategoryTreeDto):
        raise TypeError(f"get_category_tree_and_nodes returned {type(marketplace).__name__}")
    return sync_category_tree(omnitron, marketplace, removal, budget)


def create_or_update_category_attributes(
    omnitron: OmnitronIntegration,
    channel: ChannelIntegration,
    *,
    limit: int = 200,
    workers: int = 4,
    leaves_only: bool = True,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Refresh the attributes of up to ``limit`` mapped categories, least recently
    refreshed first (``categorynode`` mappings sorted by ``version_date``; new mappings
    carry an old date, so new categories come first).

    The channel's ``get_category_attributes(remote_id)`` runs for all of them on a pool of
    ``workers`` threads (the integration must tolerate concurrent calls; ``workers=1``
    calls one at a time). Then, in bulk: the attributes and values (through their
    integration actions), the category's attribute set (``remote_id`` = the category's),
    its link to the node, attribute configs (required / variant / custom) and value
    configs. A category that fails (channel error or Omnitron refusal) gets an error
    report; the others go on. Each category's mapping ``version_date`` is set to now after
    success, and after a non-transient failure too, so a broken category cannot keep the
    head of the queue; a :class:`RetryLater` from the channel leaves it at the head, and so
    does the run's budget running out before the category was asked for (the run then
    stops with :class:`BudgetExceeded`).

    Summary: ``categories`` (refreshed), ``failed``, ``attribute_sets_created`` /
    ``_updated``, ``set_configs_created``, ``attribute_configs_created`` / ``_updated``,
    ``value_configs_created``, ``attributes_created`` / ``_adopted`` / ``_shared`` (same
    name as another marketplace attribute) / ``_updated`` / ``_failed``, ``values_created``
    / ``_adopted`` / ``_updated``, ``schemas_created``; or ``skipped``.
    """
    if (why := unsupported(channel, "get_category_attributes")) is not None:
        return why
    tally = Tally()
    sync = CategorySync(omnitron, tally, "Channel-GetCategoryAttributes", budget)
    picked = pick_categories(omnitron, max(0, limit), leaves_only)
    fetched: list[tuple[Category, CategoryDto]] = []
    stopped: BudgetExceeded | None = None
    for category, result in fetch_categories(channel, picked, workers, budget):
        if isinstance(result, UnsupportedCommand):
            return skipped(result)
        if isinstance(result, BudgetExceeded):  # never asked: not failed, stays at the head
            stopped = result
            continue
        if isinstance(result, CategoryDto):
            fetched.append((category, result))
            continue
        tally["failed"] += 1
        logger.warning("channel could not describe category %s: %s", category.remote_id, result)
        code = f"Channel-GetCategoryAttributes-{category.remote_id}"
        report(omnitron, NODE, category.node, code=code, error=result)
        if not isinstance(result, RetryLater):
            sync.touch(category)
    sync.write(fetched)
    if stopped is not None:
        raise stopped
    return tally.summary(CATEGORY_KEYS)


def create_or_update_attributes(
    omnitron: OmnitronIntegration,
    channel: ChannelIntegration,
    *,
    chunk: int = 200,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Mirror the channel's global attributes (``get_attributes()``) and their values:
    the same get-or-create as the category flow, without sets, ``chunk`` attributes at a
    time (so lookups stay bounded whatever the marketplace returns).

    Summary: ``attributes`` (how many the channel returned), ``attributes_created`` /
    ``_adopted`` / ``_shared`` / ``_updated`` / ``_failed``, ``values_created`` /
    ``_adopted`` / ``_updated``, ``schemas_created``; or ``skipped``.
    """
    attributes, skip = ask(channel, "get_attributes")
    if skip is not None:
        return skip
    tally = Tally()
    sync = AttributeSync(omnitron, tally, "Channel-GetAttributes")
    specs = [AttributeSpec.of(attribute) for attribute in attributes]
    run_budget = budget or Budget.unlimited()
    for start in range(0, len(specs), max(1, chunk)):
        run_budget.check()
        sync.sync(specs[start : start + max(1, chunk)])
        run_budget.progressed()
    return tally.summary(ATTRIBUTE_KEYS, attributes=len(specs))


def pick_categories(omnitron: OmnitronIntegration, limit: int, leaves_only: bool) -> list[Category]:
    """Mapped categories, least recently refreshed first: mapping pages sorted by
    ``version_date``, each page's nodes read in one ``pk__in`` call (leaves kept)."""
    picked: list[Category] = []
    if limit == 0:
        return picked
    query = omnitron.mappings(NODE, sort="version_date", page_size=min(max(limit, 50), 500))
    for page in query.pages():
        mapped = [a for a in page if a.remote_id and a.object_id is not None]
        nodes: dict[int, CategoryNode] = {
            n.key: n for n in omnitron.category_nodes(a.object_id for a in mapped if a.object_id)
        }
        for action in mapped:
            node = nodes.get(action.object_id or 0)
            if node is None or (leaves_only and (node.numchild or 0) > 0):
                continue
            assert action.remote_id is not None
            picked.append(Category(node.key, action.remote_id, action.key))
            if len(picked) >= limit:
                return picked
    return picked


def fetch_categories(
    channel: ChannelIntegration,
    picked: Sequence[Category],
    workers: int,
    budget: Budget | None = None,
) -> list[tuple[Category, CategoryDto | Exception]]:
    """The channel's description of each category, on at most ``workers`` threads; an
    exception (or a result that is not a :class:`CategoryDto`) is that category's result.
    Once ``budget`` is spent no category is asked for any more: its result is the
    :class:`BudgetExceeded` (a slow channel must not keep the run past its budget)."""
    run_budget = budget or Budget.unlimited()

    def describe(category: Category) -> CategoryDto | Exception:
        try:
            run_budget.check()
        except BudgetExceeded as spent:
            return spent
        try:
            result = channel.get_category_attributes(category.remote_id)
        except Exception as error:  # one category's failure is its result, whatever it is
            return error
        if not isinstance(result, CategoryDto):
            return TypeError(f"get_category_attributes returned {type(result).__name__}")
        run_budget.progressed()
        return result

    if workers <= 1 or len(picked) <= 1:
        return [(category, describe(category)) for category in picked]
    results: dict[int, CategoryDto | Exception] = {}
    with ThreadPoolExecutor(min(workers, len(picked)), thread_name_prefix="setup") as pool:
        futures = {pool.submit(describe, category): index for index, category in enumerate(picked)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
    return [(category, results[index]) for index, category in enumerate(picked)]
