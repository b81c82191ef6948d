"""The resources the engine runs, declared as data: the catalog's products, stocks,
prices, images and deletions, and the order-side changes sent the same way.

Each :class:`CatalogResource` says where its pending objects come from, which channel
commands send and check them, and how a page of Omnitron objects becomes channel items; an
:class:`OrderSideResource` says the same with the one send command (and the check command,
if any) that order updates and cancellation decisions have. Everything else (batches,
locks, matching results, error reports) is the one engine in
:mod:`channel_app_template.core.engine.flows`. The modules, by role: :mod:`._resource` and
:mod:`._order_side` (the declarations' shapes), :mod:`._prepare_catalog` and
:mod:`._prepare_orders` (objects into items), :mod:`._dependents` (what to re-send when a
dependency changed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.models import ContentType
from channel_app_template.core.engine._dependents import (
    images_by_ids,
    prices_by_ids,
    product_synced_since_failure,
    products_by_ids,
    products_changed_since_failure,
    stocks_by_ids,
)
from channel_app_template.core.engine._order_side import (
    OrderSideResource,
    PendingReader,
    one_at_a_time,
)
from channel_app_template.core.engine._prepare_catalog import (
    RowItem,
    prepare_deletions,
    prepare_images,
    prepare_prices,
    prepare_products,
    prepare_stocks,
)
from channel_app_template.core.engine._prepare_orders import (
    prepare_cancellation_decisions,
    prepare_order_updates,
)
from channel_app_template.core.engine._resource import (
    ByIds,
    Caller,
    CatalogResource,
    ChangedSinceFailure,
    Cover,
    Failure,
    ListIds,
    PrepareContext,
    Prepared,
    Preparer,
    Reader,
    RowKey,
    by_remote_id,
    by_sku,
    tracked_of,
)

__all__ = [
    "CANCELLATION_DECISIONS",
    "DELETED_PRODUCTS",
    "IMAGES",
    "ORDERS",
    "PRICES",
    "PRODUCTS",
    "RESOURCES",
    "STOCKS",
    "ByIds",
    "Caller",
    "CatalogResource",
    "ChangedSinceFailure",
    "Cover",
    "Failure",
    "ListIds",
    "OrderSideResource",
    "PendingReader",
    "PrepareContext",
    "Prepared",
    "Preparer",
    "Reader",
    "RowItem",
    "RowKey",
    "by_remote_id",
    "by_sku",
    "one_at_a_time",
    "pks_for_skus",
    "prepare_cancellation_decisions",
    "prepare_deletions",
    "prepare_images",
    "prepare_order_updates",
    "prepare_prices",
    "prepare_products",
    "prepare_stocks",
    "products_changed_since_failure",
    "tracked_of",
]

logger = logging.getLogger(__name__)


# --- The declarations ------------------------------------------------------------------------

PRODUCTS = CatalogResource(
    name="products",
    model=ContentType.PRODUCT,
    send_inserted="send_inserted_products",
    send_updated="send_updated_products",
    check="check_products",
    read_pending=lambda omni, kind, limit, _: omni.pending_products(kind, limit),
    prepare=prepare_products,
    read_by_ids=products_by_ids,
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
    read_by_ids=stocks_by_ids,
    changed_since_failure=product_synced_since_failure(stocks_by_ids),
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
    read_by_ids=prices_by_ids,
    changed_since_failure=product_synced_since_failure(prices_by_ids),
)
IMAGES = CatalogResource(
    name="images",
    model=ContentType.PRODUCT_IMAGE,
    send_inserted="send_inserted_images",
    send_updated="send_updated_images",
    check="check_images",
    read_pending=lambda omni, kind, limit, _: omni.pending_images(kind, limit),
    prepare=prepare_images,
    read_by_ids=images_by_ids,
    changed_since_failure=product_synced_since_failure(images_by_ids),
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
ORDERS = OrderSideResource(
    name="orders",
    model=ContentType.ORDER,
    send="send_updated_orders",
    check="check_orders",
    read_pending=lambda omni, limit: omni.pending_orders(limit),
    prepare=prepare_order_updates,
).for_engine()
CANCELLATION_DECISIONS = OrderSideResource(
    name="cancellation_requests",
    model=ContentType.CANCELLATION_REQUEST,
    send="update_cancellation_request",
    read_pending=lambda omni, limit: omni.pending_cancellation_requests(limit),
    prepare=prepare_cancellation_decisions,
    one_at_a_time=True,
).for_engine()
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
