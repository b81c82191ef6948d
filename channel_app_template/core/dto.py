"""The typed objects exchanged between the engine and a channel integration.

Names follow Akinon's ``channel_app`` where a DTO existed there
(``ProductBatchRequestResponseDto``, ``CategoryTreeDto``, ...), so porting an existing
integration is mostly a matter of imports. What the engine hands to a channel is a
:class:`SyncItem`: the Omnitron object as it was read, its matching key (``sku``) and,
where the channel already knows it, its ``remote_id``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from channel_app_template.akinon.models import (
    CategoryNode,
    IntegrationAction,
    MappedProduct,
    Order,
    Product,
    ProductImage,
    ProductPrice,
    ProductStock,
)

T = TypeVar("T")


class ResponseStatus(enum.StrEnum):
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class FailedReasonType(enum.StrEnum):
    """Why an object failed, as Omnitron records it on the integration action."""

    MAPPING = "mapping"  # the merchant must map a category, attribute or value
    REMOTE = "remote"  # the marketplace refused it
    CHANNEL_APP = "channel_app"  # this app could not send it (missing price, no result...)


class Dto(BaseModel):
    """Base of the DTOs a channel returns: validated, immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- Catalog results ---------------------------------------------------------------


class ProductBatchRequestResponseDto(Dto):
    """The channel's verdict on one product, matched back by ``sku``."""

    status: ResponseStatus
    sku: str
    remote_id: str = ""
    message: str = ""
    failed_reason_type: FailedReasonType = FailedReasonType.REMOTE


class BatchRequestResponseDto(Dto):
    """The channel's verdict on one stock, price or image row (matched by ``sku``)."""

    status: ResponseStatus
    sku: str = ""
    remote_id: str = ""
    message: str = ""
    failed_reason_type: FailedReasonType = FailedReasonType.REMOTE


class OrderBatchRequestResponseDto(Dto):
    status: ResponseStatus
    number: str
    remote_id: str = ""
    message: str = ""
    failed_reason_type: FailedReasonType = FailedReasonType.REMOTE


ResultDto = ProductBatchRequestResponseDto | BatchRequestResponseDto | OrderBatchRequestResponseDto


class Submitted(Dto):
    """The channel accepted the work asynchronously; results come from the check command.

    ``rejected`` holds rows for items refused before they were sent (say, an unmapped
    category); they are settled together with the job's own results.
    """

    remote_batch_id: str = Field(min_length=1)
    rejected: list[ResultDto] = Field(default_factory=list)


# --- Setup -------------------------------------------------------------------------


class CategoryNodeDto(Dto):
    name: str = Field(min_length=1)
    remote_id: str = Field(min_length=1)
    children: list[CategoryNodeDto] = Field(default_factory=list)


class CategoryTreeDto(Dto):
    """The marketplace's category tree; ``roots`` are the top-level categories."""

    roots: list[CategoryNodeDto]


class CategoryAttributeValueDto(Dto):
    remote_id: str = Field(min_length=1)
    name: str


class CategoryAttributeDto(Dto):
    remote_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    required: bool = False
    variant: bool = False
    allow_custom_value: bool = False
    values: list[CategoryAttributeValueDto] = Field(default_factory=list)


class CategoryDto(Dto):
    remote_id: str = Field(min_length=1)
    name: str
    attributes: list[CategoryAttributeDto] = Field(default_factory=list)


class AttributeValueDto(Dto):
    remote_id: str = Field(min_length=1)
    name: str


class AttributeDto(Dto):
    remote_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    values: list[AttributeValueDto] = Field(default_factory=list)


class ConfDataType(enum.StrEnum):
    TEXT = "text"
    URL = "URL"
    EMAIL = "email"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    JSON = "json"
    LIST = "list"
    INTEGER = "integer"


class ChannelConfSchemaField(Dto):
    """One field of the settings form Omnitron shows for this channel."""

    key: str = Field(min_length=1)
    label: str
    data_type: ConfDataType = ConfDataType.TEXT
    required: bool = False
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def as_omnitron(self) -> dict[str, Any]:
        """The JSON Omnitron stores under ``channel.schema[key]``."""
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "data_type": self.data_type.value,
            "required": self.required,
        }
        if self.schema_ is not None:
            data["schema"] = self.schema_
        return data


# --- What the engine sends ------------------------------------------------------------


@dataclass(frozen=True)
class ProductDetails:
    """What a marketplace usually needs besides the product itself."""

    mapped: MappedProduct | None = None
    stock: ProductStock | None = None
    price: ProductPrice | None = None
    images: Sequence[ProductImage] = ()
    categories: Sequence[CategoryNode] = ()
    category_remote_ids: Sequence[str] = ()


@dataclass(frozen=True)
class SyncItem(Generic[T]):
    """One Omnitron object on its way to the channel.

    ``sku`` is the matching key (the value at the channel's ``remote_id_attribute``) that
    result rows must carry; ``remote_id`` is the channel's id for the object, known for
    updates (and, for stocks, prices and images, the product's id on the channel).
    """

    obj: T
    sku: str
    remote_id: str | None = None
    product: Product | None = None
    details: ProductDetails | None = None
    extra: dict[str, Any] = field(default_factory=dict)


ProductItem = SyncItem[Product]
StockItem = SyncItem[ProductStock]
PriceItem = SyncItem[ProductPrice]
ImageItem = SyncItem[tuple[ProductImage, ...]]  # all active images of one product
DeletedItem = SyncItem[IntegrationAction]
OrderUpdateItem = SyncItem[Order]  # ``sku`` is the order number; ``extra["items"]`` its items


# --- Orders ------------------------------------------------------------------------------


class CustomerDto(Dto):
    email: str
    first_name: str
    last_name: str
    phone_number: str | None = None
    channel_code: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)


class AddressDto(Dto):
    """A postal address; ``country``/``city``/``township``/``district`` are the channel's
    codes or names, resolved through Omnitron's location lookups and mappings."""

    email: str
    phone_number: str
    first_name: str
    last_name: str
    country: str
    city: str
    line: str
    township: str | None = None
    district: str | None = None
    postcode: str | None = None
    title: str | None = None
    company_name: str | None = None
    tax_office: str | None = None
    tax_no: str | None = None
    e_bill_taxpayer: bool = False
    identity_number: str | None = None
    notes: str | None = None
    remote_id: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)


class OrderItemDto(Dto):
    """One order line; Omnitron stores one item per unit, so ``quantity`` is split."""

    remote_id: str = Field(min_length=1)
    product: str = Field(min_length=1)  # the channel's product id (the product's remote id)
    price: Decimal
    price_currency: str
    tax_rate: Decimal = Decimal("0")
    quantity: int = Field(default=1, ge=1)
    retail_price: Decimal | None = None
    discount_amount: Decimal | None = None
    status: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)


class ChannelOrderDto(Dto):
    remote_id: str = Field(min_length=1)
    number: str = Field(min_length=1, max_length=128)
    customer: CustomerDto
    shipping_address: AddressDto
    billing_address: AddressDto
    currency: str
    amount: Decimal
    shipping_amount: Decimal = Decimal("0")
    shipping_tax_rate: Decimal = Decimal("0")
    cargo_company: str  # the cargo's erp_code in Omnitron
    created_at: datetime.datetime
    discount_amount: Decimal | None = None
    delivery_type: str | None = None
    notes: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)


class ChannelCreateOrderDto(Dto):
    order: ChannelOrderDto
    order_item: list[OrderItemDto] = Field(min_length=1)


class MalformedOrderDto(Dto):
    """A marketplace order this integration could not read: reported, retried, parked."""

    number: str
    message: str
    raw: str = ""


class ChannelUpdateOrderItemDto(Dto):
    """A change the marketplace made to one order line (shipped, delivered, invoiced)."""

    remote_id: str = Field(min_length=1)  # the order line's id
    event_id: str = ""  # acknowledged once applied, when the marketplace has events
    status: str | None = None
    invoice_number: str | None = None
    invoice_date: datetime.datetime | None = None
    tracking_number: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)


class CancelOrderDto(Dto):
    """Units of order lines the marketplace cancelled. ``quantities`` says how many units
    of each line are cancelled in total (missing lines: all units); applying the same
    event twice cancels nothing more."""

    order: str = Field(min_length=1)  # the order's remote id
    cancel_items: list[str] = Field(min_length=1)  # line remote ids
    reasons: dict[str, str] = Field(default_factory=dict)  # line id -> channel reason code
    quantities: dict[str, int] = Field(default_factory=dict)
    event_id: str = ""
    forced_refund_amount: Decimal | None = None


class CancellationRequestDto(Dto):
    """A buyer's request to cancel or return a line, raised on the marketplace."""

    remote_id: str = Field(min_length=1)
    order_item: str = Field(min_length=1)  # the line's remote id
    reason: str  # the channel's reason code, mapped by ``reason_mapping``
    description: str = ""
    cancellation_type: str = "cancel"  # or "refund"
    quantity: int = Field(default=1, ge=1)


class ChannelCancellationRequestDto(Dto):
    """Omnitron's decision on a cancellation request, for the marketplace."""

    remote_id: str
    order_item: str
    status: str
    reason: str
    description: str = ""
    cancellation_type: str = "cancel"
