"""Typed client for the reference marketplace's seller API (``/api/v1``, ``X-Api-Key``).

Quick tour::

    client = MarketplaceClient("http://127.0.0.1:8020", "sandbox-key")
    tree = client.category_tree()                        # list[CategoryNode]
    attrs = client.category_attributes(1001)             # list[CategoryAttribute]
    batch = client.upsert_products([ProductUpsert(...)]) # BatchSummary, status "processing"
    done = client.get_batch(batch.batch_id)              # Batch; .completed, .items, .rejected
    client.update_stock([StockUpdate(sku="A", quantity=3)])   # BulkResult, synchronous
    client.update_prices([PriceUpdate(sku="A", list_price=Decimal("10"), currency="TRY")])
    client.update_images([ImageUpdate(sku="A", images=[...])])  # BatchSummary, async
    client.delete_products(["A"])                        # BulkResult, synchronous
    client.delete_products_by_id(["MP00000001"])         # the same, by marketplace id
    for order in client.iter_orders():                   # new orders, oldest first
        ...                                              # MarketOrder | UnreadableOrder
    client.acknowledge_orders(["MO00000001"])            # OrderBulkResult, idempotent
    client.update_order_statuses([OrderStatusUpdate(order_id="MO00000001", status="picking")])
    client.iter_order_events("cancellation")             # OrderEvent; acknowledge_order_events
    client.iter_claims(); client.decide_claim("CL00000001", "approve")

Which call is which style: product upserts and image updates are **asynchronous** (202 + a
``batch_id``; poll :meth:`MarketplaceClient.get_batch` until ``completed``); stock, price and
delete calls are **synchronous** (per-item results in the answer). Per-item refusals are never
exceptions: they come back as :class:`ItemResult` with ``status == "rejected"`` and
machine-readable :class:`Reason` codes (see ``sandbox/marketplace/catalog.py`` for the list).

Retries follow the transport's rules (:mod:`channel_app_template.transport._retry`); every
method of this class is idempotent, so each may be repeated:

* GETs read;
* stock/price/image updates set absolute values per SKU;
* deletes are idempotent by SKU (deleting a deleted product is accepted again);
* order acknowledgements (of orders, events, claims) are idempotent by id, order status
  updates set absolute values, and a claim decision repeated is a no-op;
* **product upserts are idempotent by SKU**: the same payload twice leaves the same product
  with the same ``product_id``. The client also sends one ``Idempotency-Key`` per logical call
  (the same on every retry), so a retry after a lost response returns the *first* batch rather
  than queueing a second one.

A non-idempotent call (none in this API today) goes through :meth:`MarketplaceClient.request`
with ``idempotent=False``.

Errors are the project's (:mod:`channel_app_template.errors`); which status raises which is
:data:`MARKETPLACE_ERRORS`: ``AuthenticationError`` (bad API key), ``NotFoundError`` (404),
``RunError`` (the request or the answer broke the contract, e.g. 400/413 for a malformed bulk
request), ``RetryLater`` / ``RateLimited`` (try the run again later). An error's ``payload``
is the marketplace's error object ``{"code", "message", "details"?}``, so ``error.code`` is
its machine-readable code (``rate_limited``, ``too_many_items``...).

The wire is the framework's transport (:class:`~channel_app_template.transport.HttpClient`):
a deadline per request, a cap on the bytes of an answer (``ResponseTooLarge``), answers of
the wrong shape as ``UnexpectedAnswer``, and every list read through the one paging helper
(``PagingError`` for a list that does not end: a repeated offset or cursor, a page served
twice, more rows than asked for or than announced). Every error names the marketplace and
the path.

This module is the client's public face; the parts live beside it, one role each: the wire
models (``_wire``), the client (``_client``), this peer's headers and error rules
(``_transport``), its paging (``_paging``) and the reading of answers into models
(``_reading``).
"""

from __future__ import annotations

from channel_app_template.channel.reference._client import MarketplaceClient
from channel_app_template.channel.reference._transport import (
    MARKETPLACE_ERRORS,
    MAX_ITEMS_PER_REQUEST,
    PEER,
)
from channel_app_template.channel.reference._wire import (
    Attribute,
    AttributeValue,
    Batch,
    BatchSummary,
    BulkResult,
    CancelledLine,
    Category,
    CategoryAttribute,
    CategoryNode,
    Claim,
    ImageUpdate,
    ItemResult,
    LineStatusUpdate,
    MarketOrder,
    OrderAddress,
    OrderBulkResult,
    OrderCustomer,
    OrderEvent,
    OrderItemResult,
    OrderLine,
    OrderStatusUpdate,
    OrderTotals,
    Price,
    PriceUpdate,
    Product,
    ProductUpsert,
    Reason,
    StockUpdate,
    UnreadableOrder,
    UnreadableRow,
)
from channel_app_template.transport import Limits, RetryPolicy, Timeouts

__all__ = [
    "MARKETPLACE_ERRORS",
    "MAX_ITEMS_PER_REQUEST",
    "PEER",
    "Attribute",
    "AttributeValue",
    "Batch",
    "BatchSummary",
    "BulkResult",
    "CancelledLine",
    "Category",
    "CategoryAttribute",
    "CategoryNode",
    "Claim",
    "ImageUpdate",
    "ItemResult",
    "Limits",
    "LineStatusUpdate",
    "MarketOrder",
    "MarketplaceClient",
    "OrderAddress",
    "OrderBulkResult",
    "OrderCustomer",
    "OrderEvent",
    "OrderItemResult",
    "OrderLine",
    "OrderStatusUpdate",
    "OrderTotals",
    "Price",
    "PriceUpdate",
    "Product",
    "ProductUpsert",
    "Reason",
    "RetryPolicy",
    "StockUpdate",
    "Timeouts",
    "UnreadableOrder",
    "UnreadableRow",
]
