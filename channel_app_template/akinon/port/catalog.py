"""What the catalog engine reads from Omnitron: pending objects, the objects by pk, and a
product's details (mapped attributes, stock, price, images, categories), read in bulk."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channel_app_template.akinon.api import ID_CHUNK, ProductRowsApi, chunked, join_ids
from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.models import (
    CancellationRequest,
    CategoryNode,
    ContentType,
    MappedProduct,
    Order,
    OrderItem,
    Product,
    ProductDetails,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.akinon.port.sync_state import SyncStatePort
from channel_app_template.errors import ItemError

__all__ = ["CatalogPort"]

ROWS_PAGE = 500  # rows per page when reading many products' stocks, prices or images
READ_AHEAD_THREADS = 4  # sends of this process reading their next page at once; more queue


class CatalogPort(SyncStatePort):
    _ahead: ThreadPoolExecutor | None = None

    def read_ahead(self) -> ThreadPoolExecutor:
        """The pool the engine reads and prepares its next page on while a batch is in
        flight: one for the port's lifetime, so its threads (and their Omnitron clients)
        are reused from run to run instead of one more per run."""
        with self._extra_lock:
            if self._ahead is None:
                self._ahead = ThreadPoolExecutor(READ_AHEAD_THREADS, "read-ahead")
            return self._ahead

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.shutdown(wait=True)
        super().close()

    # --- Pending objects ---------------------------------------------------------------

    def pending_products(self, kind: str, limit: int) -> Paginated[Product]:
        return self._client.products.pending(kind, page_size=limit)

    def pending_stocks(
        self, kind: str, limit: int, stock_list: int | None
    ) -> Paginated[ProductStock]:
        return self._client.stocks.pending(kind, stock_list, page_size=limit)

    def pending_prices(
        self, kind: str, limit: int, price_list: int | None
    ) -> Paginated[ProductPrice]:
        return self._client.prices.pending(kind, price_list, page_size=limit)

    def pending_images(self, kind: str, limit: int) -> Paginated[ProductImage]:
        return self._client.images.pending(kind, page_size=limit)

    def pending_orders(self, limit: int) -> Paginated[Order]:
        """Orders changed in Omnitron since they were last sent to the channel."""
        return self._client.orders.updates(page_size=limit)

    def pending_cancellation_requests(self, limit: int) -> Paginated[CancellationRequest]:
        """Cancellation requests Omnitron decided on since they were last sent."""
        return self._client.cancellations.updates().resized(limit)

    # --- Objects by pk, always by ``__in`` in chunks ------------------------------------

    def products(self, pks: Iterable[int]) -> dict[int, Product]:
        found = self._per_chunk(lambda api, part: api.products.by_ids(part), pks)
        return {p.pk: p for p in found if p.pk is not None}

    def products_by_ids(self, pks: Iterable[int]) -> Iterator[Product]:
        return self._client.products.by_ids(pks)

    def stocks_by_ids(self, pks: Iterable[int]) -> Iterator[ProductStock]:
        return self._client.stocks.by_ids(pks)

    def prices_by_ids(self, pks: Iterable[int]) -> Iterator[ProductPrice]:
        return self._client.prices.by_ids(pks)

    def images_by_ids(self, pks: Iterable[int]) -> Iterator[ProductImage]:
        return self._client.images.by_ids(pks)

    def order_items_of(self, order_pks: Sequence[int]) -> dict[int, list[OrderItem]]:
        items: dict[int, list[OrderItem]] = defaultdict(list)
        for part in chunked(dict.fromkeys(order_pks), ID_CHUNK):
            query = self._api().orders.items(page_size=ROWS_PAGE, order__in=join_ids(part))
            for item in query:
                if item.order is not None:
                    items[int(item.order)].append(item)
        return dict(items)

    def pks_for_skus(self, model: str, skus: Sequence[str]) -> list[int]:
        """The pks of the products with these skus (``model`` product), or of their
        stocks, prices or images. Skus must be plain: no comma (``__in`` splits on it)."""
        api = self._client
        products: list[int] = []
        for part in chunked(skus, ID_CHUNK):
            query = api.products.find(page_size=len(part), sku__in=join_ids(part))
            # one page holds every match; a server ignoring the filter is not read to its end
            products += [p.key for p in query.first_page() if p.sku in part]
        if model == ContentType.PRODUCT:
            return products
        owned: dict[str, ProductRowsApi[Any]] = {
            ContentType.PRODUCT_STOCK: api.stocks,
            ContentType.PRODUCT_PRICE: api.prices,
            ContentType.PRODUCT_IMAGE: api.images,
        }
        rows = owned[model]
        pks: list[int] = []
        for part in chunked(products, ID_CHUNK):
            pks += [row.key for row in rows.find(page_size=ROWS_PAGE, product__in=join_ids(part))]
        return pks

    # --- What changed around a product ------------------------------------------------

    def changed_dependents(self, product_pks: Sequence[int]) -> dict[int, dt.datetime]:
        """For each product, the latest ``modified_date`` of its default stock, default
        price and images (inactive ones too: deactivating an image is a change)."""
        latest: dict[int, dt.datetime] = {}

        def read(api: OmnitronClient, part: list[int]) -> Iterator[Any]:
            for rows in (api.stocks, api.prices, api.images):
                yield from rows.find(page_size=ROWS_PAGE, product__in=join_ids(part))

        for row in self._per_chunk(read, product_pks):
            when = parse_date(row.modified_date)
            if row.product is not None and when is not None:
                latest[row.product] = max(when, latest.get(row.product, when))
        return latest

    # --- A product's details -------------------------------------------------------------

    def stocks_of(
        self, product_pks: Sequence[int], stock_list: int | None
    ) -> dict[int, ProductStock]:
        return self._first_per_product(lambda api: api.stocks, product_pks, stock_list)

    def prices_of(
        self, product_pks: Sequence[int], price_list: int | None
    ) -> dict[int, ProductPrice]:
        return self._first_per_product(lambda api: api.prices, product_pks, price_list)

    def images_of(self, product_pks: Sequence[int]) -> dict[int, list[ProductImage]]:
        """Every active image of each product, in display order."""
        images: dict[int, list[ProductImage]] = defaultdict(list)
        found = self._per_chunk(
            lambda api, part: api.images.find(
                page_size=ROWS_PAGE, product__in=join_ids(part), sort="order"
            ),
            product_pks,
        )
        for image in found:
            if image.product is not None and image.is_active is not False:
                images[image.product].append(image)
        for group in images.values():
            group.sort(key=lambda image: (image.order or 0, image.pk or 0))
        return dict(images)

    def categories_of(self, product_pks: Sequence[int]) -> dict[int, list[CategoryNode]]:
        nodes: dict[int, list[CategoryNode]] = defaultdict(list)
        links = self._per_chunk(
            lambda api, part: api.products.categories(product__in=join_ids(part)).resized(
                ROWS_PAGE
            ),
            product_pks,
        )
        for link in links:
            category = link.category
            if link.product is None or not category:
                continue
            node = CategoryNode.model_validate(category) if isinstance(category, dict) else None
            if node is None:
                node = CategoryNode(pk=int(category))
            nodes[link.product].append(node)
        return dict(nodes)

    def product_details(self, products: Sequence[Product]) -> dict[int, ProductDetails | ItemError]:
        """Mapped attributes (one call per product, run concurrently), stock, price,
        images and category mappings (batched); an unmappable product is an ItemError."""
        pks = [p.pk for p in products if p.pk is not None]
        pool = self.executor()
        stocks_job = pool.submit(self.stocks_of, pks, None)
        prices_job = pool.submit(self.prices_of, pks, None)
        images_job = pool.submit(self.images_of, pks)
        categories_job = pool.submit(self._categories_and_remote_ids, pks)
        mapped = self._concurrently(self._mapped, pks)
        stocks, prices = stocks_job.result(), prices_job.result()
        images, (categories, node_remote) = images_job.result(), categories_job.result()
        details: dict[int, ProductDetails | ItemError] = {}
        for pk in pks:
            found = mapped[pk]
            if isinstance(found, ItemError):
                details[pk] = found
                continue
            nodes = categories.get(pk, [])
            details[pk] = ProductDetails(
                mapped=found,
                stock=stocks.get(pk),
                price=prices.get(pk),
                images=tuple(images.get(pk, [])),
                categories=tuple(nodes),
                category_remote_ids=tuple(
                    node_remote[n.pk] for n in nodes if n.pk is not None and n.pk in node_remote
                ),
            )
        return details

    def _categories_and_remote_ids(
        self, pks: Sequence[int]
    ) -> tuple[dict[int, list[CategoryNode]], dict[int, str]]:
        """The products' category nodes and the nodes' channel ids: one job, so the second
        read runs while the mapped attributes are still being read."""
        categories = self.categories_of(pks)
        node_pks = {node.pk for group in categories.values() for node in group if node.pk}
        remote = self.remote_ids(ContentType.CATEGORY_NODE, node_pks) if node_pks else {}
        return categories, remote

    def _mapped(self, pk: int) -> MappedProduct | ItemError:
        try:
            return self._api().products.mapped(pk)
        except ItemError as error:
            return error

    def _first_per_product(
        self,
        rows: Callable[[OmnitronClient], ProductRowsApi[Any]],
        pks: Sequence[int],
        list_id: int | None,
    ) -> dict[int, Any]:
        """The first row of each product, from the default list or the extra ``list_id``."""
        found: dict[int, Any] = {}
        listed = self._per_chunk(
            lambda api, part: rows(api).find(
                page_size=len(part), list_id=list_id, product__in=join_ids(part)
            ),
            pks,
        )
        for row in listed:
            if row.product is not None:
                found.setdefault(row.product, row)
        return found
