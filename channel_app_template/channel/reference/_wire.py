"""The reference marketplace's wire format: every body its ``/api/v1`` sends or takes, typed.

Models ignore fields they do not know (the marketplace may add some) and are frozen (an
answer is a fact, not a working copy). Catalog shapes first, then orders, events and claims.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
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
    "LineStatusUpdate",
    "MarketOrder",
    "OrderAddress",
    "OrderBulkResult",
    "OrderCustomer",
    "OrderEvent",
    "OrderItemResult",
    "OrderLine",
    "OrderStatus",
    "OrderStatusUpdate",
    "OrderTotals",
    "Price",
    "PriceUpdate",
    "Product",
    "ProductUpsert",
    "Reason",
    "SellerStatus",
    "StockUpdate",
    "UnreadableOrder",
    "UnreadableRow",
    "WireModel",
]


# ========================================================================================== catalog
class WireModel(BaseModel):
    """The base of every body: unknown fields ignored, frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Price(WireModel):
    """A product's price; ``sale_price`` defaults to ``list_price`` on the marketplace."""

    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "TRY"  # TRY, USD or EUR


class ProductUpsert(WireModel):
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


class StockUpdate(WireModel):
    sku: str
    quantity: int


class PriceUpdate(WireModel):
    sku: str
    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "TRY"


class ImageUpdate(WireModel):
    """Replaces the product's whole image list (order kept; at most 8 absolute URLs)."""

    sku: str
    images: list[str]


class Reason(WireModel):
    code: str
    message: str
    field: str | None = None


class _Outcome(WireModel):
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


class _Bulk(WireModel, Generic[OutcomeT]):
    accepted_count: int
    rejected_count: int
    items: list[OutcomeT]

    @property
    def rejected(self) -> list[OutcomeT]:
        return [item for item in self.items if not item.ok]


class BulkResult(_Bulk[ItemResult]):
    """The answer of a synchronous bulk call (stock, prices, delete)."""


class BatchSummary(WireModel):
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


class AttributeValue(WireModel):
    id: int
    code: str
    name: str


class Attribute(WireModel):
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


class Category(WireModel):
    id: int
    name: str
    parent_id: int | None
    path: str  # "Women > Shirts"
    is_leaf: bool
    attributes: list[CategoryAttribute] = Field(default_factory=list)


class CategoryNode(WireModel):
    id: int
    name: str
    parent_id: int | None
    path: str
    is_leaf: bool
    children: list[CategoryNode] = Field(default_factory=list)


class Product(WireModel):
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


# =========================================================================================== orders
OrderStatus = Literal["created", "picking", "shipped", "delivered", "cancelled", "returned"]
SellerStatus = Literal["picking", "shipped", "delivered", "cancelled"]


class OrderCustomer(WireModel):
    id: str | None = None
    email: str
    first_name: str
    last_name: str
    phone: str | None = None


class OrderAddress(WireModel):
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


class OrderLine(WireModel):
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


class OrderTotals(WireModel):
    subtotal: Decimal
    shipping: Decimal
    discount: Decimal
    grand_total: Decimal


class MarketOrder(WireModel):
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


class UnreadableOrder(WireModel):
    """A listed order whose payload does not fit :class:`MarketOrder`; ``raw`` is as sent."""

    id: str
    number: str | None
    error: str
    raw: Any = None


class UnreadableRow(WireModel):
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


class LineStatusUpdate(WireModel):
    """Absolute values for one line: a status, and/or how many units are cancelled in all."""

    line_id: str
    status: SellerStatus | None = None
    cancelled_quantity: int | None = None


class OrderStatusUpdate(WireModel):
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


class CancelledLine(WireModel):
    line_id: str
    quantity: int  # cancelled by this event
    cancelled_quantity: int  # cancelled in total after it
    line_quantity: int
    reason_code: str


class OrderEvent(WireModel):
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


class Claim(WireModel):
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
