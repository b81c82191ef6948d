"""The typed objects exchanged between the engine and a channel integration.

Names follow Akinon's ``channel_app`` where a DTO existed there
(``ProductBatchRequestResponseDto``, ``CategoryTreeDto``, ...), so porting an existing
integration is mostly a matter of imports. What the engine hands to a channel (the
items) is in :mod:`~channel_app_template.channel._items`.
"""

from __future__ import annotations

import datetime
import enum
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from channel_app_template.akinon.models import FailedReasonType
from channel_app_template.order_bounds import MAX_LINE_QUANTITY, MAX_ORDER_UNITS

__all__ = [
    "MAX_AMOUNT",
    "MAX_CODE_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_EXTRA_FIELD_CHARS",
    "MAX_ID_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_ORDER_LINES",
    "MAX_ORDER_NOTES_LENGTH",
    "MAX_ORDER_NUMBER_LENGTH",
    "MAX_PHONE_LENGTH",
    "MAX_RATE",
    "MAX_RAW_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TRACKING_LENGTH",
    "ORDER_CURRENCIES",
    "ORDER_ITEM_STATUSES",
    "AddressDto",
    "AttributeDto",
    "AttributeValueDto",
    "BatchRequestResponseDto",
    "CancelOrderDto",
    "CancellationRequestDto",
    "CategoryAttributeDto",
    "CategoryAttributeValueDto",
    "CategoryDto",
    "CategoryNodeDto",
    "CategoryTreeDto",
    "ChannelCancellationRequestDto",
    "ChannelConfSchemaField",
    "ChannelCreateOrderDto",
    "ChannelOrderDto",
    "ChannelUpdateOrderItemDto",
    "ConfDataType",
    "CustomerDto",
    "Dto",
    "EventDto",
    "MalformedEventDto",
    "MalformedOrderDto",
    "OrderBatchRequestResponseDto",
    "OrderItemDto",
    "ProductBatchRequestResponseDto",
    "ResponseStatus",
    "ResultDto",
    "Submitted",
]


class ResponseStatus(enum.StrEnum):
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


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


# --- Orders ------------------------------------------------------------------------------
#
# Every string and number a marketplace sends is bounded here, before anything reaches
# Omnitron: a value past a bound fails validation, which the channel turns into a
# MalformedOrderDto / MalformedEventDto (reported, retried, parked; never dropped). Lengths
# are Omnitron's where it documents them (addresses, order number, notes, tracking
# number), generous but finite elsewhere. Messages name fields, never values: they end up
# in logs and task results, and the values are often personal data.

MAX_ID_LENGTH = 255  # remote ids, product ids, cargo codes
MAX_NAME_LENGTH = 255
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 128
MAX_ORDER_NUMBER_LENGTH = 128
MAX_CODE_LENGTH = 128  # reason codes, invoice numbers, delivery types
MAX_TRACKING_LENGTH = 256
MAX_ORDER_NOTES_LENGTH = 320
MAX_TEXT_LENGTH = 1_000  # descriptions
MAX_EXTRA_FIELD_CHARS = 10_000  # an ``extra_field`` as JSON
MAX_MESSAGE_LENGTH = 2_000  # what a malformed item's report says
MAX_RAW_LENGTH = 10_000  # how much of a malformed payload is kept for its report
MAX_AMOUNT = Decimal("9999999999.99")
MAX_RATE = Decimal("100")  # tax rates are percentages
MAX_ORDER_LINES = 1_000

ORDER_CURRENCIES = frozenset(
    {
        # ISO 4217 codes of the currencies Omnitron's price lists know (its own codes
        # ``tr``/``eu``/``lei`` are TRY/EUR/RON).
        "TRY", "EUR", "USD", "EGP", "GBP", "MAD", "PLN", "SAR", "RON", "UAH", "CZK", "HUF",
        "RUB", "BGN", "IQD", "KWD", "BHD", "OMR", "QAR", "AED", "NGN", "INR", "KZT", "JOD",
        "RSD",
    }
)  # fmt: skip
ORDER_ITEM_STATUSES = frozenset(
    {
        "50", "100", "200", "300", "350", "400", "450", "500", "510", "520", "540", "544",
        "545", "546", "547", "550", "600",
    }
)  # fmt: skip
"""Omnitron's order and order-item status codes."""


def _currency(value: str) -> str:
    if value.upper() not in ORDER_CURRENCIES:
        raise ValueError("not a currency Omnitron knows (an ISO 4217 code such as TRY)")
    return value


def _item_status(value: str) -> str:
    if value not in ORDER_ITEM_STATUSES:
        raise ValueError("not an Omnitron order item status code (400, 500, 550...)")
    return value


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        raise ValueError("must be JSON") from None
    if size > MAX_EXTRA_FIELD_CHARS:
        raise ValueError(f"more than {MAX_EXTRA_FIELD_CHARS} characters as JSON")
    return value


def _clip(limit: int) -> BeforeValidator:
    """For the DTOs that describe what could not be read: never fail, keep a prefix."""
    return BeforeValidator(lambda v: ("" if v is None else str(v))[:limit])


Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT)]  # finite: pydantic refuses NaN/inf
Rate = Annotated[Decimal, Field(ge=0, le=MAX_RATE)]
Currency = Annotated[str, StringConstraints(max_length=3), AfterValidator(_currency)]
ItemStatus = Annotated[str, StringConstraints(max_length=3), AfterValidator(_item_status)]
ExtraField = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
Code = Annotated[str, StringConstraints(max_length=MAX_CODE_LENGTH)]


class CustomerDto(Dto):
    email: str = Field(max_length=MAX_EMAIL_LENGTH)
    first_name: str = Field(max_length=MAX_NAME_LENGTH)
    last_name: str = Field(max_length=MAX_NAME_LENGTH)
    phone_number: str | None = Field(default=None, max_length=MAX_PHONE_LENGTH)
    channel_code: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    extra_field: ExtraField = Field(default_factory=dict)


class AddressDto(Dto):
    """A postal address; ``country``/``city``/``township``/``district`` are the channel's
    codes or names, resolved through Omnitron's location lookups and mappings."""

    email: str = Field(max_length=MAX_EMAIL_LENGTH)
    phone_number: str = Field(max_length=MAX_PHONE_LENGTH)
    first_name: str = Field(max_length=MAX_NAME_LENGTH)
    last_name: str = Field(max_length=MAX_NAME_LENGTH)
    country: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    city: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    line: str = Field(max_length=255)
    township: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    district: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    postcode: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=128)
    company_name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    tax_office: str | None = Field(default=None, max_length=64)
    tax_no: str | None = Field(default=None, max_length=20)
    e_bill_taxpayer: bool = False
    identity_number: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=512)
    remote_id: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    extra_field: ExtraField = Field(default_factory=dict)


class OrderItemDto(Dto):
    """One order line; Omnitron stores one item per unit, so ``quantity`` is split.

    ``price`` is what one unit costs, ``retail_price`` its list price and
    ``discount_amount`` the discount on one unit; a discount above both is refused."""

    remote_id: Id
    product: Id  # the channel's product id (the product's remote id)
    price: Money
    price_currency: Currency
    tax_rate: Rate = Decimal("0")
    quantity: Quantity = 1
    retail_price: Money | None = None
    discount_amount: Money | None = None
    status: ItemStatus | None = None
    extra_field: ExtraField = Field(default_factory=dict)

    @model_validator(mode="after")
    def _discount_within_price(self) -> OrderItemDto:
        ceiling = max(self.price, self.retail_price or Decimal(0))
        if self.discount_amount is not None and self.discount_amount > ceiling:
            raise ValueError("discount_amount is more than the line's price")
        return self


class ChannelOrderDto(Dto):
    remote_id: Id
    number: str = Field(min_length=1, max_length=MAX_ORDER_NUMBER_LENGTH)
    customer: CustomerDto
    shipping_address: AddressDto
    billing_address: AddressDto
    currency: Currency
    amount: Money
    shipping_amount: Money = Decimal("0")
    shipping_tax_rate: Rate = Decimal("0")
    cargo_company: Id  # the cargo's erp_code in Omnitron
    created_at: datetime.datetime
    discount_amount: Money | None = None
    delivery_type: str | None = Field(default=None, max_length=MAX_CODE_LENGTH)
    notes: str | None = Field(default=None, max_length=MAX_ORDER_NOTES_LENGTH)
    extra_field: ExtraField = Field(default_factory=dict)


class ChannelCreateOrderDto(Dto):
    """One marketplace order and its lines.

    Two lines of one product are refused, not merged: a line is what the marketplace
    cancels, returns and updates by id, and a duplicated line cannot be told apart from
    two genuine ones, so creating (or merging) both could ship and charge units nobody
    ordered twice. Refused, the order is reported and parked for a person to look at.
    """

    order: ChannelOrderDto
    order_item: list[OrderItemDto] = Field(min_length=1, max_length=MAX_ORDER_LINES)

    @model_validator(mode="after")
    def _consistent(self) -> ChannelCreateOrderDto:
        lines = self.order_item
        if len({line.remote_id for line in lines}) != len(lines):
            raise ValueError("order_item: two lines have the same remote_id")
        if len({line.product for line in lines}) != len(lines):
            raise ValueError("order_item: two lines are for the same product")
        currency = self.order.currency.upper()
        if any(line.price_currency.upper() != currency for line in lines):
            raise ValueError("order_item: a line's price_currency differs from the order's")
        if sum(line.quantity for line in lines) > MAX_ORDER_UNITS:
            raise ValueError(f"order_item: more than {MAX_ORDER_UNITS} units in all")
        goods = sum((line.price * line.quantity for line in lines), Decimal(0))
        if (self.order.discount_amount or 0) > goods + self.order.shipping_amount:
            raise ValueError("order.discount_amount is more than the order's lines and shipping")
        return self


class MalformedOrderDto(Dto):
    """A marketplace order this integration could not read: reported, retried, parked.

    ``number`` is the order's number (or, lacking one, its marketplace id): the key it is
    retried and parked by. ``raw`` is what the marketplace sent, for the error report."""

    number: Annotated[str, _clip(MAX_ORDER_NUMBER_LENGTH)]
    message: Annotated[str, _clip(MAX_MESSAGE_LENGTH)]
    raw: Annotated[str, _clip(MAX_RAW_LENGTH)] = ""


class ChannelUpdateOrderItemDto(Dto):
    """A change the marketplace made to one order line (shipped, delivered, invoiced)."""

    remote_id: Id  # the order line's id
    # acknowledged once applied, when the marketplace has events
    event_id: str = Field(default="", max_length=MAX_ID_LENGTH)
    status: ItemStatus | None = None
    invoice_number: str | None = Field(default=None, max_length=MAX_CODE_LENGTH)
    invoice_date: datetime.datetime | None = None
    tracking_number: str | None = Field(default=None, max_length=MAX_TRACKING_LENGTH)
    extra_field: ExtraField = Field(default_factory=dict)


class CancelOrderDto(Dto):
    """Units of order lines the marketplace cancelled. ``quantities`` says how many units
    of each line are cancelled in total (missing lines: all units); applying the same
    event twice cancels nothing more."""

    order: Id  # the order's remote id
    cancel_items: list[Id] = Field(min_length=1, max_length=MAX_ORDER_LINES)  # line ids
    reasons: dict[Id, Code] = Field(default_factory=dict)  # line id -> channel reason code
    quantities: dict[Id, Annotated[int, Field(ge=0, le=MAX_LINE_QUANTITY)]] = Field(
        default_factory=dict
    )
    event_id: str = Field(default="", max_length=MAX_ID_LENGTH)
    forced_refund_amount: Money | None = None

    @model_validator(mode="after")
    def _lines_once(self) -> CancelOrderDto:
        if len(set(self.cancel_items)) != len(self.cancel_items):
            raise ValueError("cancel_items: a line is listed twice")
        return self


class CancellationRequestDto(Dto):
    """A buyer's request to cancel or return a line, raised on the marketplace."""

    remote_id: Id
    order_item: Id  # the line's remote id
    reason: Code  # the channel's reason code, mapped by ``reason_mapping``
    description: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    cancellation_type: Literal["cancel", "refund"] = "cancel"
    quantity: Quantity = 1


class MalformedEventDto(Dto):
    """A marketplace event (line update, cancellation, claim) that could not be read.

    ``key`` is what the event is acknowledged, retried and parked by (its event id; a
    claim's id). It is reported and never acknowledged, like a malformed order."""

    key: Annotated[str, _clip(MAX_ID_LENGTH)]
    message: Annotated[str, _clip(MAX_MESSAGE_LENGTH)]
    raw: Annotated[str, _clip(MAX_RAW_LENGTH)] = ""


EventDto = ChannelUpdateOrderItemDto | CancelOrderDto | CancellationRequestDto


class ChannelCancellationRequestDto(Dto):
    """Omnitron's decision on a cancellation request, for the marketplace."""

    remote_id: str
    order_item: str
    status: str
    reason: str
    description: str = ""
    cancellation_type: str = "cancel"
