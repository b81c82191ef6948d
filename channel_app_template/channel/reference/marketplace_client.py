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
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from channel_app_template.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    RetryLater,
    RunError,
)
from channel_app_template.transport import (
    Answer,
    ApiKeyAuth,
    Closing,
    HttpClient,
    Limits,
    RetryPolicy,
    StatusErrors,
    Timeouts,
    UnexpectedAnswer,
    error_payload,
    expect_list,
)

__all__ = [
    "MAX_ITEMS_PER_REQUEST",
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

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_ITEMS_PER_REQUEST = 1000
PAGE_SIZE = 1000
NUMBERS_PER_QUERY = 200
PEER = "the reference marketplace"
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


# ====================================================================================== models
class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


M = TypeVar("M", bound=_Model)


class Price(_Model):
    """A product's price; ``sale_price`` defaults to ``list_price`` on the marketplace."""

    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "TRY"  # TRY, USD or EUR


class ProductUpsert(_Model):
    """One product to create or update, keyed by the merchant ``sku``.

    ``attributes`` maps attribute codes to value codes (enum) or text, e.g.
    ``{"color": "red", "size": "M"}``. ``description``, ``images``, ``price`` and ``stock``
    are optional: when left ``None`` the marketplace keeps what it has.
    """

    sku: str
    title: str
    brand: str
    category_id: int
    barcode: str
    attributes: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    images: list[str] | None = None
    price: Price | None = None
    stock: int | None = None


class StockUpdate(_Model):
    sku: str
    quantity: int


class PriceUpdate(_Model):
    sku: str
    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "TRY"


class ImageUpdate(_Model):
    """Replaces the product's whole image list (order kept; at most 8 absolute URLs)."""

    sku: str
    images: list[str]


class Reason(_Model):
    code: str
    message: str
    field: str | None = None


class _Outcome(_Model):
    """What every per-item result of a bulk call has: its place in the request and a verdict."""

    index: int
    status: Literal["accepted", "rejected"]
    reasons: list[Reason] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "accepted"

    @property
    def message(self) -> str:
        """All reasons in one line, for error reports."""
        return "; ".join(f"{r.code}: {r.message}" for r in self.reasons)


class ItemResult(_Outcome):
    """The outcome for the item at ``index`` of the request (same order as sent)."""

    sku: str | None
    product_id: str | None = None


OutcomeT = TypeVar("OutcomeT", bound=_Outcome)


class _Bulk(_Model, Generic[OutcomeT]):
    accepted_count: int
    rejected_count: int
    items: list[OutcomeT]

    @property
    def rejected(self) -> list[OutcomeT]:
        return [item for item in self.items if not item.ok]


class BulkResult(_Bulk[ItemResult]):
    """The answer of a synchronous bulk call (stock, prices, delete)."""


class BatchSummary(_Model):
    """An asynchronous batch; counts are ``None`` until ``status == "completed"``."""

    batch_id: str
    kind: str
    status: Literal["processing", "completed"]
    item_count: int
    accepted_count: int | None = None
    rejected_count: int | None = None
    created_at: dt.datetime
    completed_at: dt.datetime | None = None

    @property
    def completed(self) -> bool:
        return self.status == "completed"


class Batch(BatchSummary):
    """A batch with its per-item results (empty while processing)."""

    items: list[ItemResult] = Field(default_factory=list)

    @property
    def accepted(self) -> list[ItemResult]:
        return [item for item in self.items if item.ok]

    @property
    def rejected(self) -> list[ItemResult]:
        return [item for item in self.items if not item.ok]


class AttributeValue(_Model):
    id: int
    code: str
    name: str


class Attribute(_Model):
    id: int
    code: str
    name: str
    type: Literal["enum", "text"]
    max_length: int | None = None
    values: list[AttributeValue] = Field(default_factory=list)


class CategoryAttribute(Attribute):
    """An attribute as one category uses it."""

    required: bool
    variant: bool


class Category(_Model):
    id: int
    name: str
    parent_id: int | None
    path: str  # "Women > Shirts"
    is_leaf: bool
    attributes: list[CategoryAttribute] = Field(default_factory=list)


class CategoryNode(_Model):
    id: int
    name: str
    parent_id: int | None
    path: str
    is_leaf: bool
    children: list[CategoryNode] = Field(default_factory=list)


class Product(_Model):
    product_id: str
    sku: str
    status: Literal["active", "deleted"]
    title: str
    description: str | None = None
    brand: str
    category_id: int
    barcode: str
    attributes: dict[str, str]
    images: list[str]
    price: Price | None = None
    stock: int
    buyable: bool
    created_at: dt.datetime
    updated_at: dt.datetime


# ====================================================================================== orders
OrderStatus = Literal["created", "picking", "shipped", "delivered", "cancelled", "returned"]
SellerStatus = Literal["picking", "shipped", "delivered", "cancelled"]


class OrderCustomer(_Model):
    id: str | None = None
    email: str
    first_name: str
    last_name: str
    phone: str | None = None


class OrderAddress(_Model):
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    country_code: str
    city: str
    township: str | None = None
    district: str | None = None
    address_line: str
    postcode: str | None = None
    company_name: str | None = None
    tax_office: str | None = None
    tax_number: str | None = None
    identity_number: str | None = None


class OrderLine(_Model):
    """One order line: ``quantity`` units of one product; part of it may be cancelled or
    returned (``cancelled_quantity``, ``returned_quantity``)."""

    line_id: str
    sku: str
    product_id: str  # the marketplace product id, MPnnnnnnnn
    title: str = ""
    quantity: int = Field(ge=1)
    cancelled_quantity: int = 0
    returned_quantity: int = 0
    unit_price: Decimal
    list_price: Decimal | None = None
    discount_amount: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    currency: str
    status: OrderStatus
    tracking_number: str | None = None
    invoice_number: str | None = None
    invoice_date: str | None = None


class OrderTotals(_Model):
    subtotal: Decimal
    shipping: Decimal
    discount: Decimal
    grand_total: Decimal


class MarketOrder(_Model):
    """An order as the marketplace lists it (``id`` is ``MOnnnnnnnn``)."""

    id: str
    number: str
    status: OrderStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged: bool
    currency: str
    customer: OrderCustomer
    shipping_address: OrderAddress
    billing_address: OrderAddress
    cargo_code: str
    tracking_number: str | None = None
    invoice_number: str | None = None
    invoice_date: str | None = None
    totals: OrderTotals
    lines: list[OrderLine] = Field(min_length=1)


class UnreadableOrder(_Model):
    """A listed order whose payload does not fit :class:`MarketOrder`; ``raw`` is as sent."""

    id: str
    number: str | None
    error: str
    raw: Any = None


class UnreadableRow(_Model):
    """A listed event or claim whose payload does not fit its model; ``raw`` is as sent."""

    id: str
    error: str
    raw: Any = None


class OrderItemResult(_Outcome):
    """Per-item outcome of the order bulk calls (acknowledge, status updates)."""

    order_id: str | None = None
    number: str | None = None
    event_id: str | None = None
    claim_id: str | None = None
    notes: list[str] = Field(default_factory=list)


class OrderBulkResult(_Bulk[OrderItemResult]):
    """The answer of an order bulk call."""


class LineStatusUpdate(_Model):
    """Absolute values for one line: a status, and/or how many units are cancelled in all."""

    line_id: str
    status: SellerStatus | None = None
    cancelled_quantity: int | None = None


class OrderStatusUpdate(_Model):
    """Absolute values for one order (``None`` leaves a field as it is). ``status`` applies to
    every line still open; ``lines`` set single lines. ``shipped``/``delivered`` need a
    tracking number (here or sent earlier)."""

    order_id: str
    status: SellerStatus | None = None
    tracking_number: str | None = None
    invoice_number: str | None = None
    invoice_date: str | None = None
    cargo_code: str | None = None
    lines: list[LineStatusUpdate] = Field(default_factory=list)


class CancelledLine(_Model):
    line_id: str
    quantity: int  # cancelled by this event
    cancelled_quantity: int  # cancelled in total after it
    line_quantity: int
    reason_code: str


class OrderEvent(_Model):
    """A change the marketplace made: ``line_update`` (``line_id``, ``status``, tracking,
    invoice, cargo) or ``cancellation`` (``lines``)."""

    id: str
    type: Literal["line_update", "cancellation"]
    order_id: str
    order_number: str
    created_at: dt.datetime
    acknowledged: bool
    line_id: str | None = None
    status: OrderStatus | None = None
    tracking_number: str | None = None
    invoice_number: str | None = None
    invoice_date: str | None = None
    cargo_code: str | None = None
    lines: list[CancelledLine] = Field(default_factory=list)


class Claim(_Model):
    """A buyer's request to cancel (before shipping) or return units of one line."""

    id: str
    order_id: str
    order_number: str
    line_id: str
    type: Literal["cancel", "return"]
    quantity: int
    reason_code: str
    description: str = ""
    status: Literal["waiting", "approved", "rejected"]
    decision_note: str | None = None
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    acknowledged: bool


# ====================================================================================== client
def _payload(answer: Answer) -> Any:
    """The error object of an error body (``{"code", "message", "details"?}``), so that
    ``ChannelAppError.code`` is the marketplace's code; other bodies as they came."""
    body = error_payload(answer)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return body


_REFUSED = "{peer} {method} {path} refused ({status} {code}): {detail}"
# What a final error status means: a malformed request is the run's problem, not an item's.
MARKETPLACE_ERRORS = StatusErrors(
    {
        "3xx": (RunError, _REFUSED),
        "4xx": (RunError, _REFUSED),
        "5xx": (RetryLater, "{peer} {method} {path} answered {status}"),
        **dict.fromkeys(
            (401, 403), (AuthenticationError, "{peer} refused the API key ({status} {code})")
        ),
        404: (NotFoundError, "{peer} {method} {path}: not found"),
    }
)


def _row_id(key: str) -> Callable[[Any], Any]:
    return lambda row: row.get(key) if isinstance(row, dict) else None


class MarketplaceClient(Closing):
    """One seller's conversation with the reference marketplace.

    ``base_url`` is the server root (``http://127.0.0.1:8020``). One instance per worker
    thread. ``transport`` replaces the network (``httpx.MockTransport`` in tests);
    ``sleep``/``clock``/``rng`` are injectable for tests.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | str,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        pool_size: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError("the marketplace URL must start with https:// (or http://)")
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not key:
            raise ConfigurationError("the marketplace API key is empty")
        self.base_url = base_url.rstrip("/")
        self._sleep = sleep
        self._clock = clock
        self.http = HttpClient(
            self.base_url + API_PREFIX,
            peer=PEER,
            auth=ApiKeyAuth(key, API_KEY_HEADER),
            timeouts=timeouts,
            retry=retry,
            limits=limits or Limits(pool_size=pool_size),
            headers={"User-Agent": "channel_app_template-marketplace/1"},
            idempotent_methods=REPEATABLE_METHODS,
            classify=MARKETPLACE_ERRORS,
            error_payload=_payload,
            on_answer=self._note_rate_limit,
            transport=transport,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        self.timeouts = self.http.timeouts
        self.retry = self.http.retry
        self.sender = self.http.sender
        # ``X-RateLimit-Remaining`` of the last answer that had one: pace bulk loops with it
        self.rate_limit_remaining: int | None = None

    def __repr__(self) -> str:
        return f"MarketplaceClient({self.base_url!r})"

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ reference data
    def list_categories(self) -> list[Category]:
        """Every category, flat, parents before children (``parent_id`` links them)."""
        return self._parse_list(Category, self._items("/categories"), "/categories")

    def category_tree(self) -> list[CategoryNode]:
        """The roots of the category tree, each with nested ``children``."""
        path = "/categories/tree"
        return self._parse_list(CategoryNode, self._items(path), path)

    def get_category(self, category_id: int) -> Category:
        """One category with its attributes (``NotFoundError`` if unknown)."""
        path = f"/categories/{int(category_id)}"
        return self._parse(Category, self.request("GET", path), path)

    def category_attributes(self, category_id: int) -> list[CategoryAttribute]:
        path = f"/categories/{int(category_id)}/attributes"
        return self._parse_list(CategoryAttribute, self._items(path), path)

    def list_attributes(self) -> list[Attribute]:
        """Every attribute with its values (category-independent view)."""
        return self._parse_list(Attribute, self._items("/attributes"), "/attributes")

    def attribute_values(self, attribute_id: int) -> list[AttributeValue]:
        path = f"/attributes/{int(attribute_id)}/values"
        return self._parse_list(AttributeValue, self._items(path), path)

    # ------------------------------------------------------------------ products
    def upsert_products(
        self, products: Sequence[ProductUpsert], *, idempotency_key: str | None = None
    ) -> BatchSummary:
        """Queue up to 1000 products for create-or-update; returns the batch (``processing``).

        Idempotent by SKU, hence retried. ``idempotency_key`` (default: a fresh UUID per call)
        makes retries of this call, or a later repeat with the same key and items, return
        the same batch instead of a new one.
        """
        items = [p.model_dump(mode="json", exclude_none=True) for p in products]
        return self._start_batch("POST", "/products", items, idempotency_key)

    def update_images(
        self, updates: Sequence[ImageUpdate], *, idempotency_key: str | None = None
    ) -> BatchSummary:
        """Queue image-list replacements (async, like upserts)."""
        items = [u.model_dump(mode="json") for u in updates]
        return self._start_batch("PUT", "/products/images", items, idempotency_key)

    def update_stock(self, updates: Sequence[StockUpdate]) -> BulkResult:
        """Set stock quantities by SKU; synchronous per-item results."""
        return self._bulk("PUT", "/products/stock", [u.model_dump(mode="json") for u in updates])

    def update_prices(self, updates: Sequence[PriceUpdate]) -> BulkResult:
        """Set list/sale price and currency by SKU; synchronous per-item results."""
        items = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        return self._bulk("PUT", "/products/prices", items)

    def delete_products(self, skus: Sequence[str]) -> BulkResult:
        """Delete by SKU (idempotent); unknown SKUs come back rejected with ``unknown_sku``."""
        return self._bulk("POST", "/products/delete", [{"sku": sku} for sku in skus])

    def delete_products_by_id(self, product_ids: Sequence[str]) -> BulkResult:
        """Delete by the marketplace's ``product_id`` (idempotent); results carry the SKU;
        unknown ids come back rejected with ``unknown_product``."""
        items = [{"product_id": pid} for pid in product_ids]
        return self._bulk("POST", "/products/delete", items)

    def get_batch(self, batch_id: str, *, item_status: str | None = None) -> Batch:
        """A batch with **all** its item results (pages of 1000 are fetched and joined;
        a batch holds at most 1000 items, so no more are ever kept).

        ``item_status="rejected"`` fetches only the refused items.
        """
        path = f"/batches/{quote(batch_id, safe='')}"
        params: dict[str, Any] = {"item_status": item_status} if item_status else {}
        envelopes: list[dict[str, Any]] = []
        items: list[Any] = []
        for page in self.http.iter_pages(
            path,
            params,
            style="offset",
            limit=PAGE_SIZE,
            count_key="total_items",
            identity=_row_id("index"),
            max_rows=MAX_ITEMS_PER_REQUEST,
            rows_optional=True,  # no items while the batch is processing
            on_envelope=lambda body: None if envelopes else envelopes.append(body),
        ):
            items += page.rows
        envelope = envelopes[0]
        return self._parse(Batch, {**envelope, "items": items}, path)

    def wait_for_batch(
        self, batch_id: str, *, timeout: float = 60.0, interval: float = 0.25
    ) -> Batch:
        """Poll until the batch is completed; ``RetryLater`` if ``timeout`` passes first.

        For tests and scripts; Celery flows should poll from a periodic check task instead.
        """
        deadline = self._clock() + timeout
        while True:
            batch = self.get_batch(batch_id)
            if batch.completed:
                return batch
            if self._clock() >= deadline:
                raise RetryLater(f"batch {batch_id} still processing after {timeout}s")
            self._sleep(interval)

    def get_product(self, sku: str) -> Product | None:
        """The product with this SKU (also when deleted), or ``None``."""
        path = f"/products/{quote(sku, safe='')}"
        try:
            body = self.request("GET", path)
        except NotFoundError:
            return None
        return self._parse(Product, body, "/products/{sku}")

    def iter_products(
        self, skus: Sequence[str] | None = None, *, status: str = "active"
    ) -> Iterator[Product]:
        """All products (optionally only these SKUs), page by page; memory stays bounded."""
        wanted = list(skus or [])
        chunks = [wanted[i : i + PAGE_SIZE] for i in range(0, len(wanted), PAGE_SIZE)] or [[]]
        for chunk in chunks:
            params: dict[str, Any] = {"status": status, "sku": chunk}
            for page in self.http.iter_pages(
                "/products",
                params,
                style="offset",
                limit=PAGE_SIZE,
                identity=_row_id("product_id"),
            ):
                yield from self._parse_list(Product, page.rows, "/products")

    # ------------------------------------------------------------------ orders
    def iter_orders(
        self,
        *,
        acknowledged: bool | None = False,
        status: str | None = None,
        numbers: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[MarketOrder | UnreadableOrder]:
        """Orders oldest first (default: the new, unacknowledged ones), page by page.

        An order whose payload does not parse comes back as :class:`UnreadableOrder`, never
        as an exception, so one broken order cannot stop the rest. The cursor stays valid
        while orders are acknowledged during the iteration.
        """
        params: dict[str, Any] = {"acknowledged": _ack_param(acknowledged)}
        if status:
            params["status"] = status
        wanted = list(numbers or [])
        step = NUMBERS_PER_QUERY  # keeps the query string well under server line limits
        for chunk in [wanted[i : i + step] for i in range(0, len(wanted), step)] or [[]]:
            if chunk:
                params["number"] = chunk
            for raw in self._pages("/orders", params, page_size):
                yield _read_order(raw)

    def get_order(self, order_id: str) -> MarketOrder | UnreadableOrder | None:
        """One order by its marketplace id, or ``None`` when there is no such order."""
        try:
            body = self.request("GET", f"/orders/{quote(order_id, safe='')}")
        except NotFoundError:
            return None
        return _read_order(body)

    def acknowledge_orders(self, order_ids: Sequence[str]) -> OrderBulkResult:
        """Mark orders as taken (idempotent; chunks of 1000). Unknown ids come back rejected
        with ``unknown_order``."""
        return self._ack("/orders/acknowledge", "order_id", order_ids)

    def update_order_statuses(self, updates: Sequence[OrderStatusUpdate]) -> OrderBulkResult:
        """Absolute status/tracking/invoice/cargo/cancelled-unit values per order; synchronous
        per-item results (``notes`` tell what was already further along). Idempotent."""
        items = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        self._check_size(items)
        body = self.request("PUT", "/orders/status", json_body={"items": items}, idempotent=True)
        return self._parse(OrderBulkResult, body, "/orders/status")

    def iter_order_events(
        self,
        event_type: Literal["line_update", "cancellation"] | None = None,
        *,
        acknowledged: bool | None = False,
        page_size: int = 100,
    ) -> Iterator[OrderEvent | UnreadableRow]:
        """Marketplace-side changes, oldest first (default: unacknowledged ones); an event
        that does not parse is an :class:`UnreadableRow`, never an exception."""
        params: dict[str, Any] = {"acknowledged": _ack_param(acknowledged)}
        if event_type:
            params["type"] = event_type
        for raw in self._pages("/order-events", params, page_size):
            yield _read_row(OrderEvent, raw)

    def acknowledge_order_events(self, event_ids: Sequence[str]) -> OrderBulkResult:
        """Mark events as applied (idempotent; chunks of 1000)."""
        return self._ack("/order-events/acknowledge", "event_id", event_ids)

    def iter_claims(
        self, *, acknowledged: bool | None = False, status: str | None = None, page_size: int = 100
    ) -> Iterator[Claim | UnreadableRow]:
        """Buyers' cancellation and return requests, oldest first; a claim that does not
        parse is an :class:`UnreadableRow`, never an exception."""
        params: dict[str, Any] = {"acknowledged": _ack_param(acknowledged)}
        if status:
            params["status"] = status
        for raw in self._pages("/claims", params, page_size):
            yield _read_row(Claim, raw)

    def get_claim(self, claim_id: str) -> Claim | None:
        try:
            body = self.request("GET", f"/claims/{quote(claim_id, safe='')}")
        except NotFoundError:
            return None
        return self._parse(Claim, body, "/claims/{id}")

    def acknowledge_claims(self, claim_ids: Sequence[str]) -> OrderBulkResult:
        """Mark claims as taken (idempotent; chunks of 1000)."""
        return self._ack("/claims/acknowledge", "claim_id", claim_ids)

    def decide_claim(
        self, claim_id: str, decision: Literal["approve", "reject"], *, note: str | None = None
    ) -> Claim:
        """Approve or reject a claim. Repeating the same decision is a no-op (so the call is
        retried); the other decision afterwards raises :class:`RunError` with code
        ``claim_already_decided``; an unknown claim raises :class:`NotFoundError`."""
        body: dict[str, Any] = {"decision": decision}
        if note:
            body["note"] = note
        path = f"/claims/{quote(claim_id, safe='')}"
        return self._parse(Claim, self.request("PUT", path, json_body=body), "/claims/{id}")

    def _pages(self, path: str, params: dict[str, Any], page_size: int) -> Iterator[Any]:
        """Every item of a cursor-paged list; one page in memory at a time."""
        yield from self.http.iter_rows(
            path,
            params,
            style="cursor",
            limit=max(1, min(PAGE_SIZE, page_size)),
            count_key=None,
            identity=_row_id("id"),
        )

    def _ack(self, path: str, key: str, ids: Sequence[str]) -> OrderBulkResult:
        """A bulk acknowledgement in chunks of 1000; results re-indexed to ``ids``."""
        results: list[OrderItemResult] = []
        for start in range(0, len(ids), MAX_ITEMS_PER_REQUEST):
            chunk = ids[start : start + MAX_ITEMS_PER_REQUEST]
            body = self.request(
                "POST", path, json_body={"items": [{key: i} for i in chunk]}, idempotent=True
            )
            part = self._parse(OrderBulkResult, body, path)
            results += [r.model_copy(update={"index": r.index + start}) for r in part.items]
        accepted = sum(1 for r in results if r.ok)
        return OrderBulkResult(
            accepted_count=accepted, rejected_count=len(results) - accepted, items=results
        )

    # ------------------------------------------------------------------ plumbing
    def _start_batch(
        self, method: str, path: str, items: list[dict[str, Any]], key: str | None
    ) -> BatchSummary:
        self._check_size(items)
        headers = {IDEMPOTENCY_HEADER: key or str(uuid.uuid4())}
        body = self.request(
            method, path, json_body={"items": items}, headers=headers, idempotent=True
        )
        return self._parse(BatchSummary, body, path)

    def _bulk(self, method: str, path: str, items: list[dict[str, Any]]) -> BulkResult:
        self._check_size(items)
        body = self.request(method, path, json_body={"items": items}, idempotent=True)
        return self._parse(BulkResult, body, path)

    @staticmethod
    def _check_size(items: list[dict[str, Any]]) -> None:
        if not items:
            raise ValueError("send at least one item")
        if len(items) > MAX_ITEMS_PER_REQUEST:
            raise ValueError(
                f"{len(items)} items; the marketplace takes at most {MAX_ITEMS_PER_REQUEST} "
                "per request, split them"
            )

    @staticmethod
    def _parse(model: type[M], body: Any, path: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(answer)'}: {e['msg']}"
                for e in error.errors(include_input=False, include_url=False)[:5]
            )
            raise UnexpectedAnswer(
                f"{PEER} {path}: not a {model.__name__} ({problems})", peer=PEER, path=path
            ) from None

    @classmethod
    def _parse_list(cls, model: type[M], rows: Any, path: str) -> list[M]:
        if not isinstance(rows, list):
            raise UnexpectedAnswer(f"{PEER} {path}: expected a list", peer=PEER, path=path)
        return [cls._parse(model, row, path) for row in rows]

    def _items(self, path: str) -> list[Any]:
        """The ``items`` list of an unpaged GET (its size is bounded by the byte cap)."""
        body = self.request("GET", path)
        return expect_list(body, "items", peer=PEER, method="GET", path=path)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One logical call to ``/api/v1{path}``; the decoded JSON of a 2xx answer.

        ``idempotent`` defaults to true for GET/PUT/DELETE and false otherwise; only
        idempotent calls are repeated after a connection error or a 5xx.
        """
        return self.http.request(
            method, path, params=params, json=json_body, headers=headers, idempotent=idempotent
        )

    def _note_rate_limit(self, answer: Answer) -> None:
        """Keep the last ``X-RateLimit-Remaining``."""
        remaining = answer.headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.isdigit():
            self.rate_limit_remaining = int(remaining)

    @property
    def requests_sent(self) -> int:
        return self.http.stats.requests

    @property
    def retries(self) -> int:
        return self.http.stats.retries


def _ack_param(acknowledged: bool | None) -> str:
    return "any" if acknowledged is None else str(acknowledged).lower()


def _read_order(raw: Any) -> MarketOrder | UnreadableOrder:
    """The typed order, or what could be salvaged of it (id, number, the error)."""
    try:
        return MarketOrder.model_validate(raw)
    except ValidationError as error:
        ident = raw.get("id") if isinstance(raw, dict) else None
        number = raw.get("number") if isinstance(raw, dict) else None
        return UnreadableOrder(
            id=ident if isinstance(ident, str) else "",
            number=number if isinstance(number, str) and number else None,
            error=_problems(error),
            raw=raw,
        )


def _read_row(model: type[M], raw: Any) -> M | UnreadableRow:
    """The typed row, or its id (when it has a string one) and the error."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        ident = raw.get("id") if isinstance(raw, dict) else None
        return UnreadableRow(
            id=ident if isinstance(ident, str) else "", error=_problems(error), raw=raw
        )


def _problems(error: ValidationError) -> str:
    """Where and what, never the values (they may be personal data)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(item)'}: {e['msg']}" for e in error.errors()[:10]
    )
