"""Typed views of Omnitron's JSON, with Akinon's own field names.

Models accept unknown fields (``extra="allow"``): Omnitron adds fields over time and a new
one must not break a sync run. Dates such as ``modified_date`` stay the exact strings Omnitron
sent, because they are echoed back as ``version_date`` and must match to the microsecond.
Decimals arrive as JSON strings and are parsed to :class:`~decimal.Decimal`, never float.
Objects expose ``pk`` or ``id`` depending on the endpoint; both are filled when either is.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "INTEGRATION_TYPE",
    "Address",
    "Attribute",
    "AttributeConfig",
    "AttributeSchema",
    "AttributeSet",
    "AttributeSetConfig",
    "AttributeValue",
    "AttributeValueConfig",
    "BatchRequest",
    "BatchRequestHead",
    "BatchRequestObject",
    "BatchRequestStatus",
    "CancellationRequest",
    "Cargo",
    "Catalog",
    "CategoryNode",
    "CategoryTree",
    "Channel",
    "ContentType",
    "ContentTypeInfo",
    "Customer",
    "CustomerIdentifierField",
    "ErrorReport",
    "FailedReasonType",
    "IntegrationAction",
    "IntegrationActionStatus",
    "Location",
    "MappedProduct",
    "OmnitronModel",
    "Order",
    "OrderItem",
    "Product",
    "ProductCategory",
    "ProductDetails",
    "ProductImage",
    "ProductPrice",
    "ProductStock",
    "Tracked",
]


class BatchRequestStatus(enum.StrEnum):
    INITIALIZED = "initialized"
    COMMIT = "commit"
    SENT_TO_REMOTE = "sent_to_remote"
    ONGOING = "ongoing"
    DONE = "done"
    FAIL = "fail"


class IntegrationActionStatus(enum.StrEnum):
    PROCESSING = "processing"
    SUCCESS = "success"
    ERROR = "error"


class FailedReasonType(enum.StrEnum):
    """Why an object failed, as Omnitron records it on the integration action."""

    MAPPING = "mapping"  # the merchant must map a category, attribute or value
    REMOTE = "remote"  # the marketplace refused it
    CHANNEL_APP = "channel_app"  # this app could not send it (missing price, no result...)


class ContentType(enum.StrEnum):
    """Omnitron content-type model names (``content_types/?model=``): what a batch, a
    mapping or an error report is about. Every such name in this package is one of these."""

    BATCH_REQUEST = "batchrequest"
    PRODUCT = "product"
    ORDER = "order"
    ORDER_ITEM = "orderitem"
    PRODUCT_PRICE = "productprice"
    PRODUCT_STOCK = "productstock"
    INTEGRATION_ACTION = "integrationaction"
    PRODUCT_IMAGE = "productimage"
    CATEGORY_TREE = "categorytree"
    CATEGORY_NODE = "categorynode"
    CHANNEL = "channel"
    PRODUCT_CATEGORY = "productcategory"
    MARKETPLACE_ATTRIBUTE_SET = "marketplaceattributeset"
    MARKETPLACE_ATTRIBUTE_SET_CONFIG = "marketplaceattributesetconfig"
    MARKETPLACE_ATTRIBUTE = "marketplaceattribute"
    MARKETPLACE_ATTRIBUTE_SCHEMA = "marketplaceattributeschema"
    MARKETPLACE_ATTRIBUTE_VALUE = "marketplaceattributevalue"
    MARKETPLACE_ATTRIBUTE_VALUE_CONFIG = "marketplaceattributevalueconfig"
    CANCELLATION_REQUEST = "cancellationrequest"


class CustomerIdentifierField(enum.StrEnum):
    EMAIL = "email"
    PHONE_NUMBER = "phone_number"


INTEGRATION_TYPE = "sales_channel"


class OmnitronModel(BaseModel):
    """Base: tolerant of new fields, ``pk``/``id`` kept in step."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    omnitron_model: ClassVar[str | None] = None
    """Omnitron's content type of these objects (error reports about a row name it)."""

    pk: int | None = None
    id: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _pk_and_id(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("pk") is None and data.get("id") is not None:
                data = {**data, "pk": data["id"]}
            elif data.get("id") is None and data.get("pk") is not None:
                data = {**data, "id": data["pk"]}
        return data

    @property
    def key(self) -> int:
        """The object's primary key, whichever name Omnitron gave it."""
        if self.pk is None:
            raise ValueError(f"{type(self).__name__} has neither pk nor id")
        return self.pk


# Channel, catalog, content types ---------------------------------------------------------


class Channel(OmnitronModel):
    omnitron_model = ContentType.CHANNEL.value
    name: str = ""
    catalog: int | None = None
    channel_type: str | None = None
    conf: dict[str, Any] = Field(default_factory=dict)
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    category_tree: int | None = None
    is_active: bool = True
    created_date: str | None = None
    modified_date: str | None = None


class Catalog(OmnitronModel):
    name: str = ""
    price_list: int | None = None
    stock_list: int | None = None
    extra_price_lists: list[int] = Field(default_factory=list)
    extra_stock_lists: list[int] = Field(default_factory=list)


class ContentTypeInfo(OmnitronModel):
    app_label: str | None = None
    model: str


# Catalog objects -------------------------------------------------------------------------


class Product(OmnitronModel):
    omnitron_model = ContentType.PRODUCT.value
    name: str | None = None
    base_code: str | None = None
    sku: str | None = None
    product_type: int | str | None = None
    is_active: bool | None = None
    parent: int | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    attributes_kwargs: dict[str, Any] = Field(default_factory=dict)
    localized_attributes: dict[str, Any] = Field(default_factory=dict)
    extra_attributes: dict[str, Any] = Field(default_factory=dict)
    attribute_set: int | None = None
    listing_code: str | None = None
    created_date: str | None = None
    modified_date: str | None = None


class MappedProduct(OmnitronModel):
    mapped_attributes: dict[str, Any] = Field(default_factory=dict)
    mapped_attribute_values: dict[str, Any] = Field(default_factory=dict)
    attribute_set_id: int | None = None
    attribute_set_name: str | None = None
    attribute_set_remote_id: str | None = None
    modified_date: str | None = None


class ProductCategory(OmnitronModel):
    omnitron_model = ContentType.PRODUCT_CATEGORY.value
    product: int | None = None
    category: dict[str, Any] = Field(default_factory=dict)


class ProductPrice(OmnitronModel):
    omnitron_model = ContentType.PRODUCT_PRICE.value
    product: int | None = None
    price: Decimal | None = None
    price_list: int | None = None
    currency_type: str | None = None
    tax_rate: Decimal | None = None
    retail_price: Decimal | None = None
    discount_percentage: Decimal | None = None
    price_type: str | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)
    created_date: str | None = None
    modified_date: str | None = None


class ProductStock(OmnitronModel):
    omnitron_model = ContentType.PRODUCT_STOCK.value
    product: int | None = None
    stock: int | None = None
    stock_list: int | None = None
    unit_type: str | None = None
    sold_quantity_unreported: int | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)
    created_date: str | None = None
    modified_date: str | None = None


class ProductImage(OmnitronModel):
    omnitron_model = ContentType.PRODUCT_IMAGE.value
    product: int | None = None
    image: str | None = None
    order: int | None = None
    source: str | None = None
    status: str | None = None
    is_active: bool | None = None
    created_date: str | None = None
    modified_date: str | None = None


class CategoryNode(OmnitronModel):
    omnitron_model = ContentType.CATEGORY_NODE.value
    name: str = ""
    path: str | None = None
    depth: int | None = None
    numchild: int | None = None
    children: list[dict[str, Any]] | None = None
    modified_date: str | None = None


class CategoryTree(OmnitronModel):
    omnitron_model = ContentType.CATEGORY_TREE.value
    name: str = ""
    category_root: CategoryNode | None = None


class AttributeSet(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE_SET.value
    channel: int | None = None
    name: str = ""
    remote_id: str | None = None


class AttributeSetConfig(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE_SET_CONFIG.value
    attribute_set: int | None = None
    object_id: int | None = None
    content_type: Any = None


class Attribute(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE.value
    channel: int | None = None
    name: str = ""
    modified_date: str | None = None


class AttributeSchema(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE_SCHEMA.value
    channel: int | None = None
    name: str = ""
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")


class AttributeConfig(OmnitronModel):
    attribute_set: Any = None
    attribute: Any = None
    attribute_remote_id: str | None = None
    is_required: bool | None = None
    is_variant: bool | None = None
    is_custom: bool | None = None
    is_image_attribute: bool | None = None
    is_meta: bool | None = None


class AttributeValue(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE_VALUE.value
    attribute: int | None = None
    label: str | None = None
    value: str | None = None
    channel: int | None = None
    modified_date: str | None = None


class AttributeValueConfig(OmnitronModel):
    omnitron_model = ContentType.MARKETPLACE_ATTRIBUTE_VALUE_CONFIG.value
    attribute_set: int | None = None
    attribute_value: int | None = None


# Sync state ------------------------------------------------------------------------------


class IntegrationAction(OmnitronModel):
    omnitron_model = ContentType.INTEGRATION_ACTION.value
    channel: Any = None
    content_type: Any = None  # nested {id, app_label, model} on reads
    object_id: int | None = None
    remote_id: str | None = None
    version_date: str | None = None
    state: dict[str, Any] | None = None
    local_batch_id: str | None = None
    status: IntegrationActionStatus | None = None
    created_date: str | None = None
    modified_date: str | None = None

    @property
    def model_name(self) -> str | None:
        """The content type's model name whether it came nested or as a string."""
        if isinstance(self.content_type, dict):
            model = self.content_type.get("model")
            return str(model) if model is not None else None
        return self.content_type if isinstance(self.content_type, str) else None


class BatchRequestObject(BaseModel):
    """One object of a batch commit or result (``objects`` of a batch request)."""

    model_config = ConfigDict(extra="allow")

    pk: int
    version_date: str | None = None
    content_type: str
    remote_id: str | None = None
    failed_reason_type: FailedReasonType | None = None


@dataclass(frozen=True)
class Tracked:
    """An Omnitron object in a batch, with ``modified_date`` as it was when we read it."""

    pk: int
    model: str
    version_date: str | None

    def outcome(
        self,
        remote_id: str | None = None,
        failed: FailedReasonType | None = None,
    ) -> BatchRequestObject:
        return BatchRequestObject(
            pk=self.pk,
            content_type=self.model,
            version_date=self.version_date,
            remote_id=remote_id,
            failed_reason_type=failed.value if failed else None,
        )


class BatchRequest(OmnitronModel):
    omnitron_model = ContentType.BATCH_REQUEST.value
    channel: int | None = None
    local_batch_id: str | None = None
    remote_batch_id: str | None = None
    content_type: str | None = None
    status: BatchRequestStatus
    objects: list[BatchRequestObject] | None = None
    created_date: str | None = None
    modified_date: str | None = None


class BatchRequestHead(BatchRequest):
    """A batch request as a listing reads it: its ``objects`` (thousands, with what rides
    with products) are skipped, never validated, so a page of batches stays small."""

    @field_validator("objects", mode="plain")
    @classmethod
    def _skipped(cls, value: Any) -> None:
        return None


class ErrorReport(OmnitronModel):
    """An error report as sent (``action_*``/``target_*`` are content-type *ids*)."""

    action_content_type: int | None = None
    action_object_id: int | None = None
    target_content_type: int | None = None
    target_object_id: int | None = None
    obj_modified_date: str | None = None
    error_code: str = "custom"
    error_desc: str = "custom"
    raw_request: str = ""
    raw_response: str = ""
    is_ok: bool = False


# Orders and people -----------------------------------------------------------------------


class Order(OmnitronModel):
    omnitron_model = ContentType.ORDER.value
    number: str = ""
    status: str | None = None
    channel: int | None = None
    customer: Any = None
    shipping_address: Any = None
    billing_address: Any = None
    currency: str | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    discount_amount: Decimal | None = None
    cargo_company: Any = None
    extra_field: dict[str, Any] = Field(default_factory=dict)
    date_placed: str | None = None
    created_date: str | None = None
    modified_date: str | None = None


class OrderItem(OmnitronModel):
    omnitron_model = ContentType.ORDER_ITEM.value
    order: Any = None
    product: Any = None
    status: str | None = None
    price: Decimal | None = None
    price_currency: str | None = None
    tax_rate: Decimal | None = None
    extra_field: dict[str, Any] = Field(default_factory=dict)
    invoice_number: str | None = None
    invoice_date: str | None = None
    tracking_number: str | None = None
    modified_date: str | None = None


class Customer(OmnitronModel):
    channel: int | None = None
    email: str | None = None
    phone_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    channel_code: str | None = None
    extra_field: dict[str, Any] | None = None
    is_active: bool | None = None


class Address(OmnitronModel):
    email: str | None = None
    phone_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    customer: Any = None
    country: Any = None
    city: Any = None
    township: Any = None
    district: Any = None
    line: str | None = None
    postcode: str | None = None
    hash_data: str | None = None
    address_type: str | None = None
    remote_id: str | None = None
    is_active: bool | None = None


class Location(OmnitronModel):
    """A country, city, township or district."""

    name: str | None = None
    code: str | None = None
    is_active: bool | None = None


class Cargo(OmnitronModel):
    name: str | None = None
    erp_code: str | None = None
    shipping_company: str | None = None


class CancellationRequest(OmnitronModel):
    omnitron_model = ContentType.CANCELLATION_REQUEST.value
    order_item: Any = None
    reason: Any = None
    remote_id: str | None = None
    description: str | None = None
    cancellation_type: str | None = None
    status: str | None = None
    modified_date: str | None = None


# --- What the engine reads besides a product, for the channel (Omnitron objects only) ---


@dataclass(frozen=True)
class ProductDetails:
    """What a marketplace usually needs besides the product itself."""

    mapped: MappedProduct | None = None
    stock: ProductStock | None = None
    price: ProductPrice | None = None
    images: Sequence[ProductImage] = ()
    categories: Sequence[CategoryNode] = ()
    category_remote_ids: Sequence[str] = ()
