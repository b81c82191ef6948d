"""Catalog objects into channel items: products, stocks, prices, images, deletions.

Each preparer matches its objects to a product on the channel (by the matching key at
``match_path``; deletions, whose product is gone, by remote id) and fails, with a reason,
what cannot be sent yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from channel_app_template.akinon.integration import Tracked
from channel_app_template.akinon.models import (
    ContentType,
    IntegrationAction,
    IntegrationActionStatus,
    Product,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.channel import (
    DeletedItem,
    FailedReasonType,
    ImageItem,
    PriceItem,
    ProductDetails,
    ProductItem,
    StockItem,
    SyncItem,
)
from channel_app_template.core.engine._resource import PrepareContext, Prepared, tracked_of
from channel_app_template.core.engine.matching import match_key
from channel_app_template.errors import ItemError

# --- Products ----------------------------------------------------------------------------


def prepare_products(ctx: PrepareContext, products: Sequence[Product]) -> Prepared:
    prepared = Prepared()
    pks = [int(p.pk) for p in products if p.pk is not None]
    remote = ctx.omnitron.remote_ids(ContentType.PRODUCT, pks) if ctx.kind == "updates" else {}
    details = ctx.omnitron.product_details(products)
    carried = _carried(ctx, details)
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
            riders = carried.get(tracked.pk, []) if key not in prepared.covers else []
            prepared.add(item, key, [tracked, *riders])
    return prepared


def _carried(ctx: PrepareContext, details: Mapping[int, Any]) -> dict[int, list[Tracked]]:
    """The stock, price and image rows each product's payload carries (the channel's
    ``product_carries``), as read for it: on a product's first send they ride in its
    batch and take its result. Only rows never synced or failed ride: one a batch holds
    now is left to that batch, and a synced one to its own flow, so a product refused an
    update never turns its synced stock into a failure."""
    if not ctx.carries or ctx.kind != "inserts":
        return {}
    rows: dict[int, list[Tracked]] = {}
    for pk, found in details.items():
        if not isinstance(found, ProductDetails):
            continue
        carried: list[Any] = []
        if "stocks" in ctx.carries and found.stock is not None:
            carried.append((ContentType.PRODUCT_STOCK, found.stock))
        if "prices" in ctx.carries and found.price is not None:
            carried.append((ContentType.PRODUCT_PRICE, found.price))
        if "images" in ctx.carries:
            carried += [(ContentType.PRODUCT_IMAGE, image) for image in found.images]
        rows[pk] = [tracked_of(row, model) for model, row in carried if row.pk is not None]
    wanted: dict[str, list[int]] = {}
    for each in rows.values():
        for rider in each:
            wanted.setdefault(rider.model, []).append(rider.pk)
    status = ctx.omnitron.statuses(wanted) if wanted else {}
    free = (None, IntegrationActionStatus.ERROR)
    return {
        pk: [t for t in each if status.get((t.model, t.pk)) in free] for pk, each in rows.items()
    }


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
