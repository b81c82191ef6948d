"""The reference integration: the bundled marketplace, wired to the engine.

Read this file to write your own. It is the whole of what a marketplace needs: a typed
config (what the merchant types into Omnitron's channel settings), a connection check,
and one method per resource the marketplace handles (``upserts``: one for inserts and
updates). Everything Omnitron-side (batches, integration actions, version dates, error
reports, retries of the run) is the engine's.

This marketplace accepts product upserts and image updates asynchronously (a batch id,
polled by the ``check_*`` methods) and stock, price and delete calls synchronously, so
it shows both styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import urljoin

from pydantic import Field, SecretStr

from channel_app_template.channel import (
    AttributeDto,
    AttributeValueDto,
    BatchRequestResponseDto,
    CategoryAttributeDto,
    CategoryAttributeValueDto,
    CategoryDto,
    CategoryNodeDto,
    CategoryTreeDto,
    DeletedItem,
    FailedReasonType,
    ImageItem,
    IntegrationContext,
    PriceItem,
    ProductBatchRequestResponseDto,
    ProductItem,
    ResponseStatus,
    StockItem,
    Submitted,
)
from channel_app_template.channel.reference.marketplace_client import (
    MAX_ITEMS_PER_REQUEST,
    PEER,
    CategoryNode,
    ImageUpdate,
    ItemResult,
    MarketplaceClient,
    Price,
    PriceUpdate,
    ProductUpsert,
    StockUpdate,
)
from channel_app_template.channel.reference.orders import (
    ReferenceOrderCommands,
    ReferenceOrderConfig,
)
from channel_app_template.transport import UnexpectedAnswer

MAX_IMAGES = 8
PRODUCT_FIELDS = frozenset({"brand", "barcode"})  # product fields here, not attributes
NOTHING_SENT = "nothing-sent"  # the job id of a batch whose every product was refused


class ReferenceConfig(ReferenceOrderConfig):
    """``channel.conf`` keys this integration reads; the merchant's settings form is derived
    from them. The order keys (status mappings, ``reason_mapping``...) come from
    :class:`ReferenceOrderConfig`."""

    api_url: str = Field(
        "http://127.0.0.1:8020", title="Marketplace API URL", json_schema_extra={"format": "uri"}
    )
    api_key: SecretStr = Field(SecretStr("sandbox-key"), title="API key")
    media_url: str = Field(
        "https://cdn.example.com/", title="Image base URL", json_schema_extra={"format": "uri"}
    )
    """Prefix for Omnitron's relative image paths; the marketplace wants absolute URLs."""
    default_brand: str = Field("Generic", title="Brand when a product has none")


class ReferenceIntegration(ReferenceOrderCommands[ReferenceConfig]):
    """The bundled reference marketplace (``channel-app sandbox marketplace``)."""

    max_batch_size = MAX_ITEMS_PER_REQUEST
    upserts = True  # products, stocks, prices and images are upserted by sku
    product_carries = frozenset({"stocks", "prices", "images"})  # see ``_product``

    def __init__(self, config: ReferenceConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        self.client = MarketplaceClient(
            config.api_url,
            config.api_key,
            limits=context.http_limits,
            timeouts=context.http_timeouts,
        )

    def close(self) -> None:
        self.client.close()

    def check_connection(self) -> None:
        self.client.category_tree()

    # --- Setup ------------------------------------------------------------------------

    def get_category_tree_and_nodes(self) -> CategoryTreeDto:
        def node(category: CategoryNode) -> CategoryNodeDto:
            children = [node(child) for child in category.children]
            return CategoryNodeDto(
                name=category.name, remote_id=str(category.id), children=children
            )

        roots = self.client.category_tree()
        if not roots:  # a marketplace always has categories: this answer went wrong
            path = "/categories/tree"
            raise UnexpectedAnswer(
                f"{PEER} GET {path}: no category at all", peer=PEER, method="GET", path=path
            )
        return CategoryTreeDto(roots=[node(root) for root in roots])

    def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
        category = self.client.get_category(int(category_remote_id))
        attributes = [
            CategoryAttributeDto(
                remote_id=attribute.code,
                name=attribute.code,
                required=attribute.required,
                variant=attribute.variant,
                allow_custom_value=attribute.type == "text",
                values=[
                    CategoryAttributeValueDto(remote_id=v.code, name=v.name)
                    for v in attribute.values
                ],
            )
            for attribute in category.attributes
        ]
        return CategoryDto(remote_id=str(category.id), name=category.name, attributes=attributes)

    def get_attributes(self) -> list[AttributeDto]:
        return [
            AttributeDto(
                remote_id=a.code,
                name=a.code,
                values=[AttributeValueDto(remote_id=v.code, name=v.name) for v in a.values],
            )
            for a in self.client.list_attributes()
        ]

    # --- Products (asynchronous on this marketplace) -----------------------------------

    def send_products(self, items: Sequence[ProductItem]) -> Submitted:
        payloads: list[ProductUpsert] = []
        refused: list[ProductBatchRequestResponseDto] = []
        for item in items:
            payload = self._product(item)
            if isinstance(payload, str):
                refused.append(
                    ProductBatchRequestResponseDto(
                        status=ResponseStatus.FAIL,
                        sku=item.sku,
                        message=payload,
                        failed_reason_type=FailedReasonType.MAPPING,
                    )
                )
            else:
                payloads.append(payload)
        batch_id = self.client.upsert_products(payloads).batch_id if payloads else NOTHING_SENT
        return Submitted(remote_batch_id=batch_id, rejected=refused)

    def check_products(self, remote_batch_id: str) -> list[ProductBatchRequestResponseDto] | None:
        if remote_batch_id == NOTHING_SENT:
            return []
        batch = self.client.get_batch(remote_batch_id)
        return [_product_row(result) for result in batch.items] if batch.completed else None

    def delete_products(self, items: Sequence[DeletedItem]) -> list[ProductBatchRequestResponseDto]:
        by_remote = list(dict.fromkeys(item.remote_id for item in items if item.remote_id))
        answer = self.client.delete_products_by_id(by_remote)
        return [
            _product_row(r, ok=r.ok or _only(r, "unknown_product"), fallback=by_remote[r.index])
            for r in answer.items
        ]

    def _product(self, item: ProductItem) -> ProductUpsert | str:
        """The marketplace payload, or why the product cannot be sent."""
        product, details = item.obj, item.details
        if details is None or not details.category_remote_ids:
            return "the product's category is not mapped to a marketplace category"
        mapped = dict(details.mapped.mapped_attributes) if details.mapped else {}
        barcode = str(product.attributes.get("barcode") or mapped.get("barcode") or "")
        brand = mapped.get("brand") or product.attributes.get("brand") or self.config.default_brand
        attributes = {str(k).lower(): str(v) for k, v in mapped.items() if k not in PRODUCT_FIELDS}
        price, stock = details.price, details.stock
        return ProductUpsert(
            sku=item.sku,
            title=product.name or item.sku,
            brand=str(brand),
            category_id=int(details.category_remote_ids[0]),
            barcode=barcode,
            attributes=attributes,
            description=getattr(product, "description", None) or None,
            images=self._image_urls(details.images) or None,
            price=_price(price.price, price.retail_price, price.currency_type) if price else None,
            stock=_available(stock.stock, stock.sold_quantity_unreported) if stock else None,
        )

    def _image_urls(self, images: Sequence[object]) -> list[str]:
        base = self.config.media_url
        urls = [urljoin(base, str(getattr(i, "image", "") or "")) for i in images]
        return [url for url in urls if url][:MAX_IMAGES]

    # --- Stocks and prices (synchronous), images (asynchronous) --------------------------

    def send_stocks(self, items: Sequence[StockItem]) -> list[BatchRequestResponseDto]:
        updates = [
            StockUpdate(sku=i.sku, quantity=_available(i.obj.stock, i.obj.sold_quantity_unreported))
            for i in items
        ]
        return [_row(result) for result in self.client.update_stock(updates).items]

    def send_prices(self, items: Sequence[PriceItem]) -> list[BatchRequestResponseDto]:
        updates = []
        for item in items:
            price = _price(item.obj.price, item.obj.retail_price, item.obj.currency_type)
            updates.append(PriceUpdate(sku=item.sku, **price.model_dump()))
        return [_row(result) for result in self.client.update_prices(updates).items]

    def send_images(self, items: Sequence[ImageItem]) -> Submitted:
        updates = [ImageUpdate(sku=i.sku, images=self._image_urls(i.obj)) for i in items]
        return Submitted(remote_batch_id=self.client.update_images(updates).batch_id)

    def check_images(self, remote_batch_id: str) -> list[BatchRequestResponseDto] | None:
        batch = self.client.get_batch(remote_batch_id)
        return [_row(r, r.product_id or "") for r in batch.items] if batch.completed else None


def _available(stock: int | None, reserved: int | None) -> int:
    """What may still be sold: Omnitron's stock minus what it sold but not yet reported."""
    return max(0, int(stock or 0) - int(reserved or 0))


def _price(price: Decimal | None, retail: Decimal | None, currency: str | None) -> Price:
    selling = Decimal(price or 0)
    listed = Decimal(retail) if retail and Decimal(retail) >= selling else selling
    return Price(list_price=listed, sale_price=selling, currency=(currency or "try").upper())


def _only(result: ItemResult, code: str) -> bool:
    return bool(result.reasons) and all(reason.code == code for reason in result.reasons)


def _product_row(
    result: ItemResult, *, ok: bool | None = None, fallback: str = ""
) -> ProductBatchRequestResponseDto:
    return ProductBatchRequestResponseDto(
        status=ResponseStatus.SUCCESS if (result.ok if ok is None else ok) else ResponseStatus.FAIL,
        sku=result.sku or "",
        remote_id=result.product_id or fallback,
        message=result.message,
    )


def _row(result: ItemResult, remote_id: str = "") -> BatchRequestResponseDto:
    return BatchRequestResponseDto(
        status=ResponseStatus.SUCCESS if result.ok else ResponseStatus.FAIL,
        sku=result.sku or "",
        remote_id=remote_id,
        message=result.message,
    )


ChannelIntegration = ReferenceIntegration
"""The name ``CHANNEL_MODULE`` loaders look for (Akinon's convention)."""
