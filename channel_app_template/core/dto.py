"""The typed objects exchanged between the engine and a channel integration.

Names follow Akinon's ``channel_app`` where a DTO existed there
(``ProductBatchRequestResponseDto``, ``CategoryTreeDto``, ...), so porting an existing
integration is mostly a matter of imports. What the engine hands to a channel is a
:class:`SyncItem`: the Omnitron object as it was read, its matching key (``sku``) and,
where the channel already knows it, its ``remote_id``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from channel_app_template.akinon.models import (
    CategoryNode,
    IntegrationAction,
    MappedProduct,
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


ResultDto = ProductBatchRequestResponseDto | BatchRequestResponseDto


class Submitted(Dto):
    """The channel accepted the work asynchronously; results come from the check command.

    ``rejected`` holds rows for items refused before they were sent (say, an unmapped
    category); they are settled together with the job's own results.
    """

    remote_batch_id: str = Field(min_length=1)
    rejected: list[ProductBatchRequestResponseDto | BatchRequestResponseDto] = Field(
        default_factory=list
    )


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
