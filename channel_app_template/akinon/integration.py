"""The Omnitron side of every flow: what the engine reads from and records in Omnitron.

The engine never calls the REST client directly; it asks an :class:`OmnitronIntegration`
for pending objects, their details, and for batch-request bookkeeping. Subclass it (and
point ``OMNITRON_MODULE`` at your module) to change how objects are read or enriched,
without touching the engine.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from channel_app_template.akinon.catalog import CatalogApi
from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.endpoints import ID_CHUNK, chunked
from channel_app_template.akinon.models import (
    BatchRequest,
    BatchRequestObject,
    BatchRequestStatus,
    CancellationRequest,
    Catalog,
    CategoryNode,
    Channel,
    FailedReasonType,
    IntegrationAction,
    MappedProduct,
    Order,
    OrderItem,
    Product,
    ProductDetails,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.akinon.orders import OrdersApi
from channel_app_template.akinon.pagination import Paginated, Unreadable
from channel_app_template.errors import ChannelAppError, ItemError
from channel_app_template.settings import Settings

logger = logging.getLogger(__name__)

OPEN_REMOTE = (BatchRequestStatus.SENT_TO_REMOTE, BatchRequestStatus.ONGOING)
UNREADABLE_MEMORY = 10_000  # unreadable pks remembered per content type and run


class ReportOnce(Protocol):
    """Decides whether a row in a given state was reported before (see ``FailureBook``)."""

    def first_report(self, model: str, pk: int, fingerprint: str) -> bool: ...


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


class OmnitronIntegration:
    """Reads and bookkeeping for one channel, over one client (plus a small thread pool)."""

    def __init__(
        self,
        client: OmnitronClient,
        *,
        client_factory: Callable[[], OmnitronClient] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self.catalog_api = client.catalog
        self._client_factory = client_factory
        self._concurrency = max(1, concurrency)
        self._local = threading.local()
        self._extra_clients: list[OmnitronClient] = []
        self._extra_lock = threading.Lock()
        self._owner = threading.get_ident()
        self._pool: ThreadPoolExecutor | None = None
        self.reports: ReportOnce | None = None
        """Set by the runtime: unreadable rows are then reported once per state."""
        self._unreadable: dict[str, set[int]] = defaultdict(set)
        self._watch(client)

    @classmethod
    def from_settings(cls, settings: Settings) -> OmnitronIntegration:
        return cls(
            OmnitronClient.from_settings(settings),
            client_factory=lambda: OmnitronClient.from_settings(settings),
            concurrency=settings.omnitron_concurrency,
        )

    # --- Rows Omnitron sent that we cannot read ----------------------------------------

    def _watch(self, client: OmnitronClient) -> None:
        client.catalog.on_unreadable = self.unreadable_row
        client.orders.on_unreadable = self.unreadable_row

    def unreadable_row(self, row: Unreadable) -> None:
        """A listed row that does not fit its model, skipped by the read that met it:
        logged, remembered for this run (see :meth:`unreadable_pks`) and, once per state
        of the row, reported on the object in Omnitron."""
        model = row.content_type or row.model
        logger.warning("%s; skipped", row.describe(), extra={"model": model, "object_pk": row.pk})
        if row.pk is None:
            return
        seen = self._unreadable[model]
        if len(seen) < UNREADABLE_MEMORY:
            seen.add(row.pk)
        if self.reports is None or row.content_type is None:
            return
        if not self.reports.first_report(row.content_type, row.pk, f"row:{row.fingerprint}"):
            return
        try:
            self.report(
                row.content_type,
                row.pk,
                code=f"Omnitron-Read-{row.content_type}-{row.pk}",
                description=f"channel_app: {row.describe()}",
                modified_date=row.modified_date if parse_date(row.modified_date) else None,
            )
        except ChannelAppError as error:
            logger.warning("could not report unreadable %s %s: %s", model, row.pk, error)

    def unreadable_pks(self, model: str) -> set[int]:
        """Objects of content type ``model`` met unreadable by this integration (whose
        life is one task run): they exist, so nothing may treat them as gone (delete their
        mappings, create them again)."""
        return set(self._unreadable.get(model, ()))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.client.close()
        for extra in self._extra_clients:
            extra.close()

    # --- The channel -----------------------------------------------------------------

    @cached_property
    def channel(self) -> Channel:
        return self.catalog_api.get_channel()

    @cached_property
    def catalog(self) -> Catalog:
        return self.catalog_api.get_catalog()

    def update_channel_schema(self, schema: Mapping[str, Mapping[str, Any]]) -> Channel:
        return self.catalog_api.update_channel_schema(schema)

    # --- Batch requests --------------------------------------------------------------

    def open_batch(self) -> BatchRequest:
        return self.catalog_api.create_batch_request()

    def commit(self, batch: BatchRequest, model: str, tracked: Sequence[Tracked]) -> None:
        objects = [item.outcome() for item in tracked]
        self.catalog_api.commit_batch_request(_pk(batch), model, objects)

    def submitted(self, batch: BatchRequest, remote_batch_id: str) -> None:
        self.catalog_api.mark_batch_sent_to_remote(_pk(batch), remote_batch_id)

    def still_running(self, batch: BatchRequest) -> None:
        if batch.status != BatchRequestStatus.ONGOING:
            self.catalog_api.mark_batch_ongoing(_pk(batch))

    def finish(self, batch: BatchRequest, outcomes: Sequence[BatchRequestObject]) -> None:
        self.catalog_api.mark_batch_done(_pk(batch), outcomes)

    def abort(self, batch: BatchRequest, outcomes: Sequence[BatchRequestObject] = ()) -> None:
        self.catalog_api.mark_batch_failed(_pk(batch), list(outcomes) or None)

    def batches(
        self, statuses: Sequence[BatchRequestStatus], model: str | None
    ) -> list[BatchRequest]:
        """All matching batches, every page (checkers that read one page miss the rest).

        Read first, acted on after: settling a batch takes it out of the listing, which
        would shift the pages under an iteration. Each batch's ``objects`` (up to a
        thousand entries each, which the engine never needs: its journal has them) are
        dropped as soon as a small page is read, so memory does not grow with the catalog.
        """
        query = self.catalog_api.batch_requests(statuses, content_type=model, page_size=10)
        return [batch.model_copy(update={"objects": None}) for batch in query]

    def batch(self, pk: int) -> BatchRequest:
        return self.catalog_api.get_batch_request(pk)

    # --- Reports ---------------------------------------------------------------------

    def report(
        self,
        model: str,
        pk: int,
        *,
        code: str,
        description: str,
        modified_date: str | None = None,
        raw_request: str = "",
        raw_response: str = "",
    ) -> None:
        self.catalog_api.report_error(
            model,
            pk,
            error_code=code[:255],
            error_desc=description,
            obj_modified_date=modified_date,
            raw_request=raw_request,
            raw_response=raw_response,
        )

    # --- Pending objects ---------------------------------------------------------------

    def pending_products(self, kind: str, limit: int) -> Paginated[Product]:
        return self.catalog_api.pending_products(kind, page_size=limit)

    def pending_stocks(
        self, kind: str, limit: int, stock_list: int | None
    ) -> Paginated[ProductStock]:
        return self.catalog_api.pending_stocks(kind, stock_list, page_size=limit)

    def pending_prices(
        self, kind: str, limit: int, price_list: int | None
    ) -> Paginated[ProductPrice]:
        return self.catalog_api.pending_prices(kind, price_list, page_size=limit)

    def pending_images(self, kind: str, limit: int) -> Paginated[ProductImage]:
        return self.catalog_api.pending_images(kind, page_size=limit)

    def pending_orders(self, limit: int) -> Paginated[Order]:
        """Orders changed in Omnitron since they were last sent to the channel."""
        return self.client.orders.order_updates(page_size=limit)

    def order_items_of(self, order_pks: Sequence[int]) -> dict[int, list[OrderItem]]:
        items: dict[int, list[OrderItem]] = defaultdict(list)
        for part in chunked(dict.fromkeys(order_pks), ID_CHUNK):
            query = self.thread_client().orders.order_items(
                page_size=500, order__in=",".join(map(str, part))
            )
            for item in query:
                if item.order is not None:
                    items[int(item.order)].append(item)
        return dict(items)

    def pending_cancellation_requests(self, limit: int) -> Paginated[CancellationRequest]:
        """Cancellation requests Omnitron decided on since they were last sent."""
        return self.client.orders.cancellation_request_updates().resized(limit)

    def orders_api(self) -> OrdersApi:
        """The orders endpoints, on this thread's own client."""
        return self.thread_client().orders

    def deleted_actions(self, model: str, limit: int) -> Paginated[IntegrationAction]:
        return self.catalog_api.deleted_integration_actions(model, page_size=limit)

    def failed_actions(self, model: str, page_size: int) -> Paginated[IntegrationAction]:
        """Mappings of ``model`` whose last sync failed (``status=error``), oldest first."""
        api = self.catalog_api
        return api.integration_actions(
            page_size=page_size,
            content_type_name=model,
            channel_id=api.channel_id,
            status="error",
            sort="id",
        )

    def actions_of(self, model: str, pks: Iterable[int]) -> dict[int, IntegrationAction]:
        """The mapping of each of ``pks`` that has one (``object_id__in`` in chunks)."""
        return {
            action.object_id: action
            for action in self._api().integration_actions_for_objects(model, pks)
            if action.object_id is not None and action.model_name in (None, model)
        }

    def changed_dependents(self, product_pks: Sequence[int]) -> dict[int, dt.datetime]:
        """For each product, the latest ``modified_date`` of its default stock, default
        price and images (inactive ones too: deactivating an image is a change)."""
        latest: dict[int, dt.datetime] = {}

        def note(product: int | None, stamp: str | None) -> None:
            when = parse_date(stamp)
            if product is not None and when is not None:
                latest[product] = max(when, latest.get(product, when))

        api = self._api()
        for part in chunked(dict.fromkeys(product_pks), ID_CHUNK):
            ids = ",".join(map(str, part))
            for row in api.product_stocks(page_size=500, product__in=ids):
                note(row.product, row.modified_date)
            for price in api.product_prices(page_size=500, product__in=ids):
                note(price.product, price.modified_date)
            for image in api.product_images(page_size=500, product__in=ids):
                note(image.product, image.modified_date)
        return latest

    def forget(self, actions: Iterable[IntegrationAction]) -> None:
        """Delete mappings whose objects are gone from Omnitron and from the channel."""
        for action in actions:
            if action.pk is not None:
                self.catalog_api.delete_integration_action(action.pk)

    # --- Lookups, always by ``__in`` in chunks ----------------------------------------------

    def products(self, pks: Iterable[int]) -> dict[int, Product]:
        return {p.pk: p for p in self._api().products_by_ids(pks) if p.pk is not None}

    def remote_ids(self, model: str, pks: Iterable[int]) -> dict[int, str]:
        """Channel ids of objects the channel has (whatever their last sync's outcome, and
        also while a batch holds them), by Omnitron pk."""
        return {
            action.object_id: action.remote_id
            for action in self._api().integration_actions_for_objects(model, pks)
            if action.object_id is not None and action.remote_id
        }

    def actions_by_remote_id(
        self, model: str, remote_ids: Iterable[str]
    ) -> list[IntegrationAction]:
        return list(self._api().integration_actions_for_remote_ids(model, remote_ids))

    def stocks_of(
        self, product_pks: Sequence[int], stock_list: int | None
    ) -> dict[int, ProductStock]:
        return self._per_product(lambda part: self._stocks(stock_list, part), product_pks)

    def _stocks(self, stock_list: int | None, pks: list[int]) -> Iterator[ProductStock]:
        filters = {"product__in": ",".join(map(str, pks))}
        if stock_list is None:
            return iter(self._api().product_stocks(page_size=len(pks), **filters))
        return iter(self._api().extra_product_stocks(stock_list, len(pks), **filters))

    def prices_of(
        self, product_pks: Sequence[int], price_list: int | None
    ) -> dict[int, ProductPrice]:
        def read(pks: list[int]) -> Iterator[ProductPrice]:
            filters = {"product__in": ",".join(map(str, pks))}
            if price_list is None:
                return iter(self._api().product_prices(page_size=len(pks), **filters))
            return iter(self._api().extra_product_prices(price_list, len(pks), **filters))

        return self._per_product(read, product_pks)

    def images_of(self, product_pks: Sequence[int]) -> dict[int, list[ProductImage]]:
        """Every active image of each product, in display order."""
        images: dict[int, list[ProductImage]] = defaultdict(list)
        for part in chunked(dict.fromkeys(product_pks), ID_CHUNK):
            query = self._api().product_images(
                page_size=500, product__in=",".join(map(str, part)), sort="order"
            )
            for image in query:
                if image.product is not None and image.is_active is not False:
                    images[image.product].append(image)
        for group in images.values():
            group.sort(key=lambda image: (image.order or 0, image.pk or 0))
        return dict(images)

    def categories_of(self, product_pks: Sequence[int]) -> dict[int, list[CategoryNode]]:
        nodes: dict[int, list[CategoryNode]] = defaultdict(list)
        for part in chunked(dict.fromkeys(product_pks), ID_CHUNK):
            query = self._api().product_categories(product__in=",".join(map(str, part)))
            for link in query.resized(500):
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
        categories_job = pool.submit(self.categories_of, pks)
        mapped = self._concurrently(self._mapped, pks)
        stocks, prices = stocks_job.result(), prices_job.result()
        images, categories = images_job.result(), categories_job.result()
        node_pks = {node.pk for group in categories.values() for node in group if node.pk}
        node_remote = self.remote_ids("categorynode", node_pks) if node_pks else {}
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

    # --- Helpers -----------------------------------------------------------------------

    def _mapped(self, pk: int) -> MappedProduct | ItemError:
        try:
            return self.thread_client().catalog.mapped_product(pk)
        except ItemError as error:
            return error

    def _per_product(
        self, read: Callable[[list[int]], Iterator[Any]], pks: Sequence[int]
    ) -> dict[int, Any]:
        found: dict[int, Any] = {}
        for part in chunked(dict.fromkeys(pks), ID_CHUNK):
            for row in read(part):
                if row.product is not None:
                    found.setdefault(row.product, row)
        return found

    def _concurrently(self, work: Callable[[int], Any], keys: Sequence[int]) -> dict[int, Any]:
        """Independent per-object calls on the bounded pool, one client per thread."""
        if self._client_factory is None or self._concurrency == 1 or len(keys) < 2:
            return {key: work(key) for key in keys}
        return dict(zip(keys, self.executor().map(work, keys), strict=True))

    def executor(self) -> ThreadPoolExecutor:
        """One pool for the integration's lifetime, so its threads (and their clients)
        are reused from batch to batch instead of piling up."""
        if self._pool is None:
            workers = self._concurrency + 4 if self._client_factory else 1
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="omnitron")
        return self._pool

    def _api(self) -> CatalogApi:
        return self.thread_client().catalog

    def thread_client(self) -> OmnitronClient:
        if self._client_factory is None or threading.get_ident() == self._owner:
            return self.client
        client: OmnitronClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory()
            self._watch(client)
            self._local.client = client
            with self._extra_lock:
                self._extra_clients.append(client)
        return client


def _pk(batch: BatchRequest) -> int:
    if batch.pk is None:
        raise ItemError("batch request without a pk")
    return batch.pk
