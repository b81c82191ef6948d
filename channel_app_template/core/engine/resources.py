"""What differs between products, stocks, prices, images and deletions, declared as data.

Each :class:`CatalogResource` says where its pending objects come from, which channel
commands send and check them, and how a page of Omnitron objects becomes channel items
(:func:`prepare_products` and friends). Everything else (batches, locks, matching
results, error reports) is the one engine in :mod:`channel_app_template.core.engine.flows`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.integration import OmnitronIntegration, Tracked
from channel_app_template.akinon.models import (
    CancellationRequest,
    Catalog,
    ContentType,
    IntegrationAction,
    IntegrationActionStatus,
    Order,
    Product,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.channel import (
    BatchRequestResponseDto,
    ChannelCancellationRequestDto,
    ChannelConfig,
    DeletedItem,
    FailedReasonType,
    ImageItem,
    OrderBatchRequestResponseDto,
    OrderUpdateItem,
    PriceItem,
    ProductDetails,
    ProductItem,
    ResponseStatus,
    ResultDto,
    StockItem,
    SyncItem,
)
from channel_app_template.core.engine.matching import match_key
from channel_app_template.errors import ItemError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """An object that was not sent, and why (it gets an error report and an error action)."""

    tracked: Tracked
    reason: FailedReasonType
    message: str


@dataclass
class Cover:
    """The Omnitron objects one channel result row settles, and their default remote id."""

    tracked: list[Tracked] = field(default_factory=list)
    remote_id: str | None = None


@dataclass
class Prepared:
    items: list[SyncItem[Any]] = field(default_factory=list)
    covers: dict[str, Cover] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def add(self, item: SyncItem[Any], key: str, tracked: Sequence[Tracked]) -> None:
        if key in self.covers:
            for each in tracked:
                self.fail(
                    each,
                    FailedReasonType.CHANNEL_APP,
                    f"another object in this batch has the same matching key {key!r}",
                )
            return
        self.items.append(item)
        self.covers[key] = Cover(list(tracked), item.remote_id)

    def fail(self, tracked: Tracked, reason: FailedReasonType, message: str) -> None:
        self.failures.append(Failure(tracked, reason, message))


@dataclass(frozen=True)
class PrepareContext:
    omnitron: OmnitronIntegration
    match_path: str
    kind: str  # "inserts" | "updates" | "deleted"
    list_id: int | None = None
    config: ChannelConfig = field(default_factory=ChannelConfig)


Caller = Callable[[Any, Sequence[SyncItem[Any]]], list[Any]]
Reader = Callable[[OmnitronIntegration, str, int, int | None], Paginated[Any]]
Preparer = Callable[[PrepareContext, Sequence[Any]], Prepared]
ByIds = Callable[[OmnitronIntegration, Sequence[int]], Iterable[Any]]
ChangedSinceFailure = Callable[[OmnitronIntegration, Sequence[IntegrationAction]], list[int]]
RowKey = Callable[[ResultDto], str]
ListIds = Callable[[Catalog], Sequence[int]]


def by_sku(row: ResultDto) -> str:
    """A result row's matching key: the order number for order rows, the sku otherwise."""
    if isinstance(row, OrderBatchRequestResponseDto):
        return row.number
    return row.sku


def by_remote_id(row: ResultDto) -> str:
    """A result row's matching key when Omnitron has no sku left (deletions)."""
    return row.remote_id


@dataclass(frozen=True)
class CatalogResource:
    """One kind of catalog object and the channel commands that carry it."""

    name: str
    model: ContentType  # the batch request's content type
    send_inserted: str
    send_updated: str
    check: str
    read_pending: Reader
    prepare: Preparer
    object_model: ContentType | None = None  # content type of the objects (default ``model``)
    call: Caller | None = None  # for channel commands that take one item at a time
    list_setting: str | None = None  # channel.conf key mapping extra list ids, if any
    extra_lists: ListIds | None = None  # the catalog's extra lists that setting may map
    read_by_ids: ByIds | None = None  # objects by pk, for re-sending failed ones
    changed_since_failure: ChangedSinceFailure | None = None
    """Which failed objects (by their ``error`` mappings) saw what they depend on change
    since they failed: they are re-sent although they did not change themselves."""
    view_keeps_failures: bool = False
    """The pending view lists failed objects again on every run (deletions): each send
    then counts as an attempt, with backoff, see :mod:`.failure_book`."""
    matched_by: RowKey = by_sku
    """What a channel result row is matched on (the key ``prepare`` gave its item)."""
    deletes: tuple[ContentType, ...] = ()
    """Deletions: a success row confirms the object is gone from the channel (no remote id
    is recorded), and the mappings of these content types holding its remote id are
    dropped."""

    @property
    def objects_model(self) -> ContentType:
        return self.object_model or self.model

    def command(self, kind: str) -> str:
        return self.send_inserted if kind == "inserts" else self.send_updated


def tracked_of(obj: Any, model: str) -> Tracked:
    return Tracked(pk=int(obj.pk), model=model, version_date=obj.modified_date)


# --- Re-sending failed objects once what they depend on changed ----------------------------


def _failed_at(actions: Sequence[IntegrationAction]) -> dict[int, dt.datetime]:
    """When each object failed: its ``error`` mapping's ``modified_date`` (Omnitron's clock,
    like the dates it is compared with)."""
    out: dict[int, dt.datetime] = {}
    for action in actions:
        when = parse_date(action.modified_date)
        if action.object_id is not None and when is not None:
            out[action.object_id] = when
    return out


def products_changed_since_failure(
    omnitron: OmnitronIntegration, actions: Sequence[IntegrationAction]
) -> list[int]:
    """Failed products whose stock, price or images changed after they failed."""
    failed_at = _failed_at(actions)
    latest = omnitron.changed_dependents(list(failed_at))
    return [pk for pk, when in failed_at.items() if pk in latest and latest[pk] > when]


def _product_synced_since_failure(read: ByIds) -> ChangedSinceFailure:
    """Failed stocks, prices or images whose product was synced (successfully) after."""

    def changed(omnitron: OmnitronIntegration, actions: Sequence[IntegrationAction]) -> list[int]:
        failed_at = _failed_at(actions)
        product_of = {
            int(row.pk): int(row.product)
            for row in read(omnitron, list(failed_at))
            if row.pk is not None and row.product is not None
        }
        products = omnitron.actions_of(ContentType.PRODUCT, set(product_of.values()))
        out = []
        for pk, product in product_of.items():
            action = products.get(product)
            synced = parse_date(action.modified_date) if action is not None else None
            if (
                action is not None
                and action.status == IntegrationActionStatus.SUCCESS
                and synced is not None
                and synced > failed_at[pk]
            ):
                out.append(pk)
        return out

    return changed


def _products_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.products_by_ids(pks)


def _stocks_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.stocks_by_ids(pks)


def _prices_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.prices_by_ids(pks)


def _images_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.images_by_ids(pks)


# --- Products ----------------------------------------------------------------------------


def prepare_products(ctx: PrepareContext, products: Sequence[Product]) -> Prepared:
    prepared = Prepared()
    pks = [int(p.pk) for p in products if p.pk is not None]
    remote = ctx.omnitron.remote_ids(ContentType.PRODUCT, pks) if ctx.kind == "updates" else {}
    details = ctx.omnitron.product_details(products)
    for product in products:
        tracked = tracked_of(product, ContentType.PRODUCT)
        found = details.get(tracked.pk)
        key = match_key(product, ctx.match_path)
        if key is None:
            prepared.fail(
                tracked,
                FailedReasonType.MAPPING,
                f"the product has no value at {ctx.match_path!r}, the matching key",
            )
        elif isinstance(found, ItemError) or found is None:
            why = found.message if isinstance(found, ItemError) else "no details"
            prepared.fail(tracked, FailedReasonType.MAPPING, f"attributes cannot be mapped: {why}")
        elif ctx.kind == "updates" and tracked.pk not in remote:
            prepared.fail(
                tracked,
                FailedReasonType.CHANNEL_APP,
                "the product has no remote id on the channel yet",
            )
        else:
            item = ProductItem(
                obj=product,
                sku=key,
                remote_id=remote.get(tracked.pk),
                details=found if isinstance(found, ProductDetails) else None,
            )
            prepared.add(item, key, [tracked])
    return prepared


# --- Stocks and prices: rows that belong to a product already on the channel ---------------


def _prepare_rows(
    ctx: PrepareContext, rows: Sequence[Any], model: ContentType, make: RowItem
) -> Prepared:
    prepared = Prepared()
    product_pks = [int(r.product) for r in rows if r.product is not None]
    products = ctx.omnitron.products(product_pks)
    remote = ctx.omnitron.remote_ids(ContentType.PRODUCT, product_pks)
    for row in rows:
        tracked = tracked_of(row, model)
        product = products.get(int(row.product)) if row.product is not None else None
        key = match_key(product, ctx.match_path) if product is not None else None
        if product is None:
            prepared.fail(tracked, FailedReasonType.CHANNEL_APP, "its product no longer exists")
        elif key is None:
            prepared.fail(
                tracked,
                FailedReasonType.MAPPING,
                f"its product has no value at {ctx.match_path!r}, the matching key",
            )
        elif int(row.product) not in remote:
            prepared.fail(
                tracked,
                FailedReasonType.CHANNEL_APP,
                "its product has not been sent to the channel yet",
            )
        else:
            item = make(row, key, remote[int(row.product)], product, ctx.list_id)
            prepared.add(item, key, [tracked])
    return prepared


RowItem = Callable[[Any, str, str, Product, int | None], SyncItem[Any]]


def _stock_item(row: Any, key: str, remote: str, product: Product, lst: int | None) -> StockItem:
    return StockItem(obj=row, sku=key, remote_id=remote, product=product, stock_list=lst)


def _price_item(row: Any, key: str, remote: str, product: Product, lst: int | None) -> PriceItem:
    return PriceItem(obj=row, sku=key, remote_id=remote, product=product, price_list=lst)


def prepare_stocks(ctx: PrepareContext, stocks: Sequence[ProductStock]) -> Prepared:
    return _prepare_rows(ctx, stocks, ContentType.PRODUCT_STOCK, _stock_item)


def prepare_prices(ctx: PrepareContext, prices: Sequence[ProductPrice]) -> Prepared:
    return _prepare_rows(ctx, prices, ContentType.PRODUCT_PRICE, _price_item)


# --- Images: the whole image set of each product goes together --------------------------------


def prepare_images(ctx: PrepareContext, images: Sequence[ProductImage]) -> Prepared:
    prepared = Prepared()
    pending: dict[int, list[ProductImage]] = {}
    for image in images:
        if image.product is not None:
            pending.setdefault(int(image.product), []).append(image)
        else:
            prepared.fail(
                tracked_of(image, ContentType.PRODUCT_IMAGE),
                FailedReasonType.CHANNEL_APP,
                "the image belongs to no product",
            )
    product_pks = list(pending)
    products = ctx.omnitron.products(product_pks)
    remote = ctx.omnitron.remote_ids(ContentType.PRODUCT, product_pks)
    everything = ctx.omnitron.images_of(product_pks)
    for product_pk, changed in pending.items():
        tracked = [tracked_of(image, ContentType.PRODUCT_IMAGE) for image in changed]
        product = products.get(product_pk)
        key = match_key(product, ctx.match_path) if product is not None else None
        problem = None
        if product is None:
            problem = (FailedReasonType.CHANNEL_APP, "its product no longer exists")
        elif key is None:
            problem = (FailedReasonType.MAPPING, f"its product has no value at {ctx.match_path!r}")
        elif product_pk not in remote:
            problem = (
                FailedReasonType.CHANNEL_APP,
                "its product has not been sent to the channel yet",
            )
        if problem or key is None:
            reason, message = problem or (FailedReasonType.CHANNEL_APP, "no matching key")
            for each in tracked:
                prepared.fail(each, reason, message)
            continue
        item = ImageItem(
            obj=tuple(everything.get(product_pk, changed)),
            sku=key,
            remote_id=remote[product_pk],
            product=product,
        )
        prepared.add(item, key, tracked)
    return prepared


# --- Deletions: mappings whose product is gone from Omnitron -----------------------------------


def prepare_deletions(ctx: PrepareContext, actions: Sequence[IntegrationAction]) -> Prepared:
    """Matched by ``remote_id``: the product itself no longer exists to give a sku."""
    prepared = Prepared()
    for action in actions:
        tracked = Tracked(
            pk=int(action.pk or 0),
            model=ContentType.INTEGRATION_ACTION,
            version_date=action.modified_date,
        )
        if not action.remote_id:
            prepared.fail(tracked, FailedReasonType.CHANNEL_APP, "the mapping has no remote id")
            continue
        sku = str((action.state or {}).get("sku", ""))
        item = DeletedItem(obj=action, sku=sku, remote_id=action.remote_id)
        prepared.add(item, action.remote_id, [tracked])
    return prepared


# --- Orders changed in Omnitron (status, tracking, invoice) ------------------------------------


def prepare_order_updates(ctx: PrepareContext, orders: Sequence[Order]) -> Prepared:
    """Matched by order number; carries the order's items and their line ids."""
    prepared = Prepared()
    pks = [int(o.pk) for o in orders if o.pk is not None]
    remote = ctx.omnitron.remote_ids(ContentType.ORDER, pks)
    items = ctx.omnitron.order_items_of(pks)
    item_pks = [int(i.pk) for group in items.values() for i in group if i.pk is not None]
    lines = ctx.omnitron.remote_ids(ContentType.ORDER_ITEM, item_pks)
    for order in orders:
        tracked = tracked_of(order, ContentType.ORDER)
        if tracked.pk not in remote:
            prepared.fail(
                tracked,
                FailedReasonType.CHANNEL_APP,
                "the order has no remote id: it did not come from this channel",
            )
            continue
        own = items.get(tracked.pk, [])
        item = OrderUpdateItem(
            obj=order,
            sku=order.number,
            remote_id=remote[tracked.pk],
            items=tuple(own),
            item_remote_ids={
                int(i.pk): lines[int(i.pk)] for i in own if i.pk is not None and int(i.pk) in lines
            },
        )
        prepared.add(item, order.number, [tracked])
    return prepared


# --- Omnitron's decisions on cancellation requests, back to the channel -------------------------


def prepare_cancellation_decisions(
    ctx: PrepareContext, requests: Sequence[CancellationRequest]
) -> Prepared:
    prepared = Prepared()
    mapping, _ = ctx.config.reason_ids()
    codes = {pk: code for code, pk in mapping.items()}  # Omnitron reason id -> channel code
    item_pks = [int(r.order_item) for r in requests if isinstance(r.order_item, int)]
    lines = ctx.omnitron.remote_ids(ContentType.ORDER_ITEM, item_pks)
    for request in requests:
        tracked = tracked_of(request, ContentType.CANCELLATION_REQUEST)
        line = lines.get(int(request.order_item)) if isinstance(request.order_item, int) else None
        if not request.remote_id or not line:
            prepared.fail(
                tracked, FailedReasonType.CHANNEL_APP, "the request did not come from this channel"
            )
            continue
        decision = ChannelCancellationRequestDto(
            remote_id=request.remote_id,
            order_item=line,
            status=str(request.status or ""),
            reason=codes.get(int(request.reason), str(request.reason))
            if isinstance(request.reason, int)
            else str(request.reason or ""),
            description=request.description or "",
            cancellation_type=request.cancellation_type or "cancel",
        )
        prepared.add(
            SyncItem(obj=decision, sku=request.remote_id, remote_id=request.remote_id),
            request.remote_id,
            [tracked],
        )
    return prepared


def one_at_a_time(channel: Any, items: Sequence[SyncItem[Any]]) -> list[Any]:
    """``update_cancellation_request`` takes one request: call it per item, a refusal
    failing only that item."""
    rows: list[Any] = []
    for item in items:
        try:
            row = channel.update_cancellation_request(item.obj)
            rows.append(row.model_copy(update={"sku": item.sku, "remote_id": item.sku}))
        except ItemError as error:
            rows.append(
                BatchRequestResponseDto(
                    status=ResponseStatus.FAIL,
                    sku=item.sku,
                    remote_id=item.sku,
                    message=error.message,
                )
            )
    return rows


# --- The declarations ------------------------------------------------------------------------

PRODUCTS = CatalogResource(
    name="products",
    model=ContentType.PRODUCT,
    send_inserted="send_inserted_products",
    send_updated="send_updated_products",
    check="check_products",
    read_pending=lambda omni, kind, limit, _: omni.pending_products(kind, limit),
    prepare=prepare_products,
    read_by_ids=_products_by_ids,
    changed_since_failure=products_changed_since_failure,
)
STOCKS = CatalogResource(
    name="stocks",
    model=ContentType.PRODUCT_STOCK,
    send_inserted="send_inserted_stocks",
    send_updated="send_updated_stocks",
    check="check_stocks",
    read_pending=lambda omni, kind, limit, list_id: omni.pending_stocks(kind, limit, list_id),
    prepare=prepare_stocks,
    list_setting="WAREHOUSE_CODES",
    extra_lists=lambda catalog: catalog.extra_stock_lists,
    read_by_ids=_stocks_by_ids,
    changed_since_failure=_product_synced_since_failure(_stocks_by_ids),
)
PRICES = CatalogResource(
    name="prices",
    model=ContentType.PRODUCT_PRICE,
    send_inserted="send_inserted_prices",
    send_updated="send_updated_prices",
    check="check_prices",
    read_pending=lambda omni, kind, limit, list_id: omni.pending_prices(kind, limit, list_id),
    prepare=prepare_prices,
    list_setting="CURRENCY_MAPPINGS",
    extra_lists=lambda catalog: catalog.extra_price_lists,
    read_by_ids=_prices_by_ids,
    changed_since_failure=_product_synced_since_failure(_prices_by_ids),
)
IMAGES = CatalogResource(
    name="images",
    model=ContentType.PRODUCT_IMAGE,
    send_inserted="send_inserted_images",
    send_updated="send_updated_images",
    check="check_images",
    read_pending=lambda omni, kind, limit, _: omni.pending_images(kind, limit),
    prepare=prepare_images,
    read_by_ids=_images_by_ids,
    changed_since_failure=_product_synced_since_failure(_images_by_ids),
)
DELETED_PRODUCTS = CatalogResource(
    name="deleted_products",
    model=ContentType.INTEGRATION_ACTION,
    send_inserted="send_deleted_products",
    send_updated="send_deleted_products",
    check="check_deleted_products",
    read_pending=lambda omni, _kind, limit, _list: omni.deleted_actions(ContentType.PRODUCT, limit),
    prepare=prepare_deletions,
    view_keeps_failures=True,
    matched_by=by_remote_id,
    deletes=(
        ContentType.PRODUCT,
        ContentType.PRODUCT_STOCK,
        ContentType.PRODUCT_PRICE,
        ContentType.PRODUCT_IMAGE,
    ),
)
ORDERS = CatalogResource(
    name="orders",
    model=ContentType.ORDER,
    send_inserted="send_updated_orders",
    send_updated="send_updated_orders",
    check="check_orders",
    read_pending=lambda omni, _kind, limit, _list: omni.pending_orders(limit),
    prepare=prepare_order_updates,
)
CANCELLATION_DECISIONS = CatalogResource(
    name="cancellation_requests",
    model=ContentType.CANCELLATION_REQUEST,
    send_inserted="update_cancellation_request",
    send_updated="update_cancellation_request",
    check="update_cancellation_request",
    read_pending=lambda omni, _kind, limit, _list: omni.pending_cancellation_requests(limit),
    prepare=prepare_cancellation_decisions,
    call=one_at_a_time,
)
RESOURCES = {
    r.name: r
    for r in (PRODUCTS, STOCKS, PRICES, IMAGES, DELETED_PRODUCTS, ORDERS, CANCELLATION_DECISIONS)
}


def pks_for_skus(
    omnitron: OmnitronIntegration, resource: CatalogResource, skus: Sequence[str]
) -> list[int]:
    """The pks of ``resource`` objects that belong to the products with these skus (the
    products themselves, or their stocks, prices or images). A sku with a comma cannot be
    asked for in an ``__in`` list and is left out (the log says so)."""
    plain = [sku for sku in dict.fromkeys(skus) if sku and "," not in sku]
    if len(plain) < len(set(skus)):
        logger.warning("%d skus with a comma (or empty) were left out", len(set(skus)) - len(plain))
    return omnitron.pks_for_skus(resource.objects_model, plain)
