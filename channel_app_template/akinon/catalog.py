"""Catalog-side Omnitron endpoints: channel, catalog, products and their prices, stocks,
images and categories, attributes, integration actions, batch requests and error reports.

Paths and fields follow Omnitron's public API (see ``omnitron-api.md``); the semantics of the
``inserts``/``updates``/``deleted`` routes are inferred from how Akinon's clients use them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from channel_app_template.akinon.endpoints import ID_CHUNK, EndpointGroup, T, chunked, join_ids
from channel_app_template.akinon.http import OmnitronHttp
from channel_app_template.akinon.models import (
    Attribute,
    AttributeConfig,
    AttributeSchema,
    AttributeSet,
    AttributeSetConfig,
    AttributeValue,
    AttributeValueConfig,
    BatchRequest,
    BatchRequestObject,
    BatchRequestStatus,
    Catalog,
    CategoryNode,
    CategoryTree,
    Channel,
    ContentTypeInfo,
    ErrorReport,
    IntegrationAction,
    IntegrationActionStatus,
    MappedProduct,
    Product,
    ProductCategory,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated
from channel_app_template.errors import ItemError, NotFoundError, RunError

logger = logging.getLogger(__name__)

BATCH_TRANSITION_REFUSED = "batch_request_status_100_1"
PRODUCT_TYPE_SIMPLE = 0
PENDING_KINDS = ("inserts", "updates")
SETUP_PAGE_SIZE = 500  # attribute configs / values / value configs per page


class CatalogApi(EndpointGroup):
    """Everything a catalog flow reads from or writes to Omnitron for one channel."""

    def __init__(self, http: OmnitronHttp, channel_id: int, catalog_id: int) -> None:
        super().__init__(http, channel_id)
        self.catalog_id = catalog_id
        self._content_type_ids: dict[str, int] = {}

    # Channel, catalog, content types ------------------------------------------------------

    def get_channel(self) -> Channel:
        return self.get_one(f"channels/{self.channel_id}/", Channel)

    def update_channel(self, changes: Mapping[str, Any]) -> Channel:
        return self.update(f"channels/{self.channel_id}/", Channel, dict(changes))

    def update_channel_schema(self, schema: Mapping[str, Mapping[str, Any]]) -> Channel:
        """Merge ``schema`` fields into the channel's conf schema (others are kept)."""
        merged = {**self.get_channel().schema_, **schema}
        return self.update_channel({"schema": merged})

    def set_channel_category_tree(self, category_tree: int) -> Channel:
        return self.update_channel({"category_tree": category_tree})

    def get_catalog(self) -> Catalog:
        return self.get_one(f"catalogs/{self.catalog_id}/", Catalog)

    def content_type_id(self, model: str) -> int:
        """The id of content type ``model``; asked once per client instance."""
        if model not in self._content_type_ids:
            query = self.list_of("content_types/", ContentTypeInfo, {"model": model})
            try:
                found = query.one()
            except (NotFoundError, ItemError) as error:
                raise RunError(f"Omnitron has no single content type {model!r}") from error
            self._content_type_ids[model] = found.key
        return self._content_type_ids[model]

    # Products -----------------------------------------------------------------------------

    def products(self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Paginated[Product]:
        return self.list_of(self.channel_path("products"), Product, filters, page_size=page_size)

    def pending_products(
        self,
        kind: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        language: str | None = None,
        product_type: int | None = PRODUCT_TYPE_SIMPLE,
        **filters: Any,
    ) -> Paginated[Product]:
        """``inserts`` (never sent), ``updates`` (changed since sent) or ``inserts_or_updates``."""
        if kind not in (*PENDING_KINDS, "inserts_or_updates"):
            raise ValueError(f"unknown pending kind {kind!r}")
        headers = {"Accept-Language": language} if language else None
        return self.list_of(
            self.channel_path("products", kind),
            Product,
            {"product_type": product_type, **filters},
            page_size=page_size,
            headers=headers,
        )

    def products_by_ids(self, pks: Iterable[int], language: str | None = None) -> Iterator[Product]:
        headers = {"Accept-Language": language} if language else None
        return self.by_ids(
            self.channel_path("products"), Product, pks, params={"sort": "id"}, headers=headers
        )

    def mapped_product(self, product_pk: int, language: str | None = None) -> MappedProduct:
        """The product's attributes mapped for this channel; 406 (unmappable) is an ItemError."""
        headers = {"Accept-Language": language} if language else None
        return self.get_one(
            self.channel_path("mapped_products", product_pk), MappedProduct, headers=headers
        )

    def product_categories(self, **filters: Any) -> Paginated[ProductCategory]:
        """``product_categories/detailed/`` (filter ``product`` or ``product__in``)."""
        return self.list_of(
            self.channel_path("product_categories", "detailed"), ProductCategory, filters
        )

    def deleted_integration_actions(
        self, model: str = "product", page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[IntegrationAction]:
        """Mappings whose Omnitron object was deleted (to remove from the channel)."""
        return self.list_of(
            self.channel_path("integration_actions", "deleted"),
            IntegrationAction,
            {"model": model, "channel_id": self.channel_id},
            page_size=page_size,
        )

    # Prices, stocks, images ---------------------------------------------------------------

    def product_prices(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[ProductPrice]:
        return self._resource("product_prices", ProductPrice, None, page_size, filters)

    def pending_prices(
        self, kind: str, price_list: int | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[ProductPrice]:
        """Prices of the default list; pass an extra list id to read ``extra_product_prices``."""
        if price_list is None:
            return self._resource("product_prices", ProductPrice, kind, page_size, {})
        return self._resource(
            "extra_product_prices", ProductPrice, kind, page_size, {"price_list": price_list}
        )

    def extra_product_prices(
        self, price_list: int, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[ProductPrice]:
        params = {"price_list": price_list, **filters}
        return self._resource("extra_product_prices", ProductPrice, None, page_size, params)

    def product_stocks(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[ProductStock]:
        return self._resource("product_stocks", ProductStock, None, page_size, filters)

    def pending_stocks(
        self, kind: str, stock_list: int | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[ProductStock]:
        """Stocks of the default list; pass an extra list id to read ``extra_product_stocks``."""
        if stock_list is None:
            return self._resource("product_stocks", ProductStock, kind, page_size, {})
        return self._resource(
            "extra_product_stocks", ProductStock, kind, page_size, {"stock_list": stock_list}
        )

    def extra_product_stocks(
        self, stock_list: int, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[ProductStock]:
        params = {"stock_list": stock_list, **filters}
        return self._resource("extra_product_stocks", ProductStock, None, page_size, params)

    def product_images(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[ProductImage]:
        return self._resource("product_images", ProductImage, None, page_size, filters)

    def pending_images(
        self, kind: str, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[ProductImage]:
        return self._resource("product_images", ProductImage, kind, page_size, {})

    def prices_by_ids(self, pks: Iterable[int]) -> Iterator[ProductPrice]:
        return self.by_ids(self.channel_path("product_prices"), ProductPrice, pks)

    def stocks_by_ids(self, pks: Iterable[int]) -> Iterator[ProductStock]:
        return self.by_ids(self.channel_path("product_stocks"), ProductStock, pks)

    def images_by_ids(self, pks: Iterable[int]) -> Iterator[ProductImage]:
        return self.by_ids(self.channel_path("product_images"), ProductImage, pks, lookup="id__in")

    def _resource(
        self,
        resource: str,
        model: type[Any],
        kind: str | None,
        page_size: int,
        filters: Mapping[str, Any],
    ) -> Paginated[Any]:
        if kind is not None and kind not in PENDING_KINDS:
            raise ValueError(f"unknown pending kind {kind!r}")
        path = self.channel_path(resource, kind) if kind else self.channel_path(resource)
        return self.list_of(path, model, filters, page_size=page_size)

    # Categories ---------------------------------------------------------------------------

    def create_category_tree(self, name: str) -> CategoryTree:
        return self.create(self.channel_path("category_trees"), CategoryTree, {"name": name})

    def get_category_tree(self, pk: int) -> CategoryTree:
        return self.get_one(self.channel_path("category_trees", pk), CategoryTree)

    def create_category_node(self, parent: int, name: str) -> CategoryNode:
        """A 4xx (:class:`ItemError`) means a sibling already has ``name``."""
        body = {"node": parent, "name": name}
        return self.create(self.channel_path("category_nodes"), CategoryNode, body)

    def update_category_node(self, pk: int, changes: Mapping[str, Any]) -> CategoryNode:
        """An empty ``changes`` only bumps ``modified_date``, as Akinon's clients do."""
        return self.update(self.channel_path("category_nodes", pk), CategoryNode, dict(changes))

    def get_category_node(self, pk: int, *, detailed: bool = False) -> CategoryNode:
        parts: tuple[object, ...] = (pk, "detailed") if detailed else (pk,)
        return self.get_one(self.channel_path("category_nodes", *parts), CategoryNode)

    def category_nodes(self, page_size: int = 1000, **filters: Any) -> Paginated[CategoryNode]:
        """E.g. ``numchild=0`` for the leaves."""
        path = self.channel_path("category_nodes")
        return self.list_of(path, CategoryNode, filters, page_size=page_size)

    def category_trees(self, **filters: Any) -> Paginated[CategoryTree]:
        """The channel's category trees, e.g. ``name__exact`` to find one after a lost answer."""
        return self.list_of(self.channel_path("category_trees"), CategoryTree, filters)

    def category_nodes_by_ids(self, pks: Iterable[int]) -> Iterator[CategoryNode]:
        return self.by_ids(self.channel_path("category_nodes"), CategoryNode, pks)

    def delete_category_node(self, pk: int) -> None:
        """Delete a node and its subtree; a 404 (already gone, e.g. our own earlier attempt
        whose answer was lost) counts as done. Omnitron refuses a tree's root (406)."""
        try:
            self.http.delete(self.channel_path("category_nodes", pk))
        except NotFoundError:
            logger.info("category node %s was already deleted", pk)

    def move_category_node(
        self, pk: int, target: int, position: str = "last-child"
    ) -> CategoryNode:
        """``category_nodes/move/``: the node (with its subtree) becomes a child of ``target``.

        The path is in Akinon's public docs; the body (treebeard's ``move(target, pos)``:
        ``{node, target, pos}``) is inferred. A POST, so never repeated blindly: after an
        ambiguous failure read the node back and compare its parent.
        """
        body = {"node": pk, "target": target, "pos": position}
        return self.create(self.channel_path("category_nodes", "move"), CategoryNode, body)

    # Attributes ---------------------------------------------------------------------------

    def attribute_sets_by_remote_ids(self, remote_ids: Iterable[str]) -> Iterator[AttributeSet]:
        """``remote_id__in`` chunk by chunk (callers should still compare ``remote_id``)."""
        return self.by_ids(
            self.channel_path("attribute_sets"), AttributeSet, remote_ids, lookup="remote_id__in"
        )

    def attributes_by_ids(self, pks: Iterable[int]) -> Iterator[Attribute]:
        return self.by_ids(self.channel_path("attributes"), Attribute, pks)

    def attribute_set_configs_of_sets(
        self, attribute_sets: Iterable[int], content_type: str | None = None
    ) -> Iterator[AttributeSetConfig]:
        """The set configs (``object_id`` + ``content_type``) of the given sets."""
        extra = {"content_type__model": content_type} if content_type else {}
        return self._all_of_chunks(
            "attribute_set_configs", AttributeSetConfig, "attribute_set__in", attribute_sets, extra
        )

    def attribute_configs_of_sets(self, attribute_sets: Iterable[int]) -> Iterator[AttributeConfig]:
        """Every attribute config of the given sets."""
        return self._all_of_chunks(
            "attribute_configs", AttributeConfig, "attribute_set__in", attribute_sets
        )

    def attribute_values_of_attributes(self, attributes: Iterable[int]) -> Iterator[AttributeValue]:
        """Every value of the given attributes."""
        return self._all_of_chunks("attribute_values", AttributeValue, "attribute__in", attributes)

    def attribute_value_configs_of_sets(
        self, attribute_sets: Iterable[int]
    ) -> Iterator[AttributeValueConfig]:
        """Every value config of the given sets."""
        return self._all_of_chunks(
            "attribute_value_configs", AttributeValueConfig, "attribute_set__in", attribute_sets
        )

    def _all_of_chunks(
        self,
        resource: str,
        model: type[T],
        lookup: str,
        ids: Iterable[int],
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[T]:
        """Like :meth:`by_ids`, for lookups with many rows per id: big pages, not id-sized."""
        path = self.channel_path(resource)
        for part in chunked(dict.fromkeys(ids), ID_CHUNK):
            query = {**(extra or {}), lookup: join_ids(part)}
            yield from self.list_of(path, model, query, page_size=SETUP_PAGE_SIZE)

    def attribute_sets(self, **filters: Any) -> Paginated[AttributeSet]:
        return self.list_of(self.channel_path("attribute_sets"), AttributeSet, filters)

    def create_attribute_set(self, name: str, remote_id: str | None = None) -> AttributeSet:
        body = {"name": name, "remote_id": remote_id, "channel": self.channel_id}
        return self.create(self.channel_path("attribute_sets"), AttributeSet, body)

    def update_attribute_set(self, pk: int, changes: Mapping[str, Any]) -> AttributeSet:
        path = self.channel_path("attribute_sets", pk)
        return self.update(path, AttributeSet, dict(changes))

    def attribute_set_configs(self, **filters: Any) -> Paginated[AttributeSetConfig]:
        path = self.channel_path("attribute_set_configs")
        return self.list_of(path, AttributeSetConfig, filters)

    def create_attribute_set_config(
        self, attribute_set: int, object_id: int, content_type: str
    ) -> AttributeSetConfig:
        body = {
            "attribute_set": attribute_set,
            "object_id": object_id,
            "content_type": content_type,
        }
        return self.create(self.channel_path("attribute_set_configs"), AttributeSetConfig, body)

    def attributes(self, **filters: Any) -> Paginated[Attribute]:
        return self.list_of(self.channel_path("attributes"), Attribute, filters)

    def get_attribute(self, pk: int) -> Attribute:
        return self.get_one(self.channel_path("attributes", pk), Attribute)

    def create_attribute(self, name: str) -> Attribute:
        body = {"name": name, "channel": self.channel_id}
        return self.create(self.channel_path("attributes"), Attribute, body)

    def update_attribute(self, pk: int, changes: Mapping[str, Any]) -> Attribute:
        return self.update(self.channel_path("attributes", pk), Attribute, dict(changes))

    def attribute_schemas(self, **filters: Any) -> Paginated[AttributeSchema]:
        return self.list_of(self.channel_path("attribute_schemas"), AttributeSchema, filters)

    def create_attribute_schema(self, name: str, schema: Mapping[str, Any]) -> AttributeSchema:
        body = {"name": name, "schema": dict(schema), "channel": self.channel_id}
        return self.create(self.channel_path("attribute_schemas"), AttributeSchema, body)

    def attribute_configs(
        self, *, detailed: bool = False, **filters: Any
    ) -> Paginated[AttributeConfig]:
        path = (
            self.channel_path("attribute_configs", "detailed")
            if detailed
            else self.channel_path("attribute_configs")
        )
        return self.list_of(path, AttributeConfig, filters)

    def create_attribute_config(self, body: Mapping[str, Any]) -> AttributeConfig:
        """Fields: attribute_set, attribute, attribute_remote_id, is_required, is_variant..."""
        return self.create(self.channel_path("attribute_configs"), AttributeConfig, dict(body))

    def update_attribute_config(self, pk: int, changes: Mapping[str, Any]) -> AttributeConfig:
        path = self.channel_path("attribute_configs", pk)
        return self.update(path, AttributeConfig, dict(changes))

    def attribute_values(self, page_size: int = 1000, **filters: Any) -> Paginated[AttributeValue]:
        path = self.channel_path("attribute_values")
        return self.list_of(path, AttributeValue, filters, page_size=page_size)

    def get_attribute_value(self, pk: int) -> AttributeValue:
        return self.get_one(self.channel_path("attribute_values", pk), AttributeValue)

    def create_attribute_value(self, attribute: int, label: str, value: str) -> AttributeValue:
        body = {"channel": self.channel_id, "attribute": attribute, "label": label, "value": value}
        return self.create(self.channel_path("attribute_values"), AttributeValue, body)

    def update_attribute_value(self, pk: int, changes: Mapping[str, Any]) -> AttributeValue:
        path = self.channel_path("attribute_values", pk)
        return self.update(path, AttributeValue, dict(changes))

    def attribute_value_configs(self, **filters: Any) -> Paginated[AttributeValueConfig]:
        path = self.channel_path("attribute_value_configs")
        return self.list_of(path, AttributeValueConfig, filters)

    def create_attribute_value_config(
        self, attribute_set: int, attribute_value: int
    ) -> AttributeValueConfig:
        body = {"attribute_set": attribute_set, "attribute_value": attribute_value}
        path = self.channel_path("attribute_value_configs")
        return self.create(path, AttributeValueConfig, body)

    # Integration actions ------------------------------------------------------------------

    def integration_actions(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[IntegrationAction]:
        """Filters: content_type_name, object_id(__in), remote_id(__exact|__in), status..."""
        path = self.channel_path("integration_actions")
        return self.list_of(path, IntegrationAction, filters, page_size=page_size)

    def integration_actions_for_objects(
        self, model: str, object_ids: Iterable[int]
    ) -> Iterator[IntegrationAction]:
        """The mappings of many objects, ``object_id__in`` chunk by chunk."""
        return self.by_ids(
            self.channel_path("integration_actions"),
            IntegrationAction,
            object_ids,
            lookup="object_id__in",
            params={"content_type_name": model, "channel_id": self.channel_id},
        )

    def integration_actions_for_remote_ids(
        self, model: str, remote_ids: Iterable[str]
    ) -> Iterator[IntegrationAction]:
        return self.by_ids(
            self.channel_path("integration_actions"),
            IntegrationAction,
            remote_ids,
            lookup="remote_id__in",
            params={"content_type_name": model, "channel_id": self.channel_id},
        )

    def create_integration_action(
        self,
        model: str,
        object_id: int,
        remote_id: str | None,
        version_date: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> IntegrationAction:
        body = {
            "channel_id": self.channel_id,
            "content_type": model,
            "object_id": object_id,
            "remote_id": remote_id,
            "version_date": version_date,
            "state": dict(state or {}),
        }
        return self.create(self.channel_path("integration_actions"), IntegrationAction, body)

    def update_integration_action(self, pk: int, changes: Mapping[str, Any]) -> IntegrationAction:
        path = self.channel_path("integration_actions", pk)
        return self.update(path, IntegrationAction, dict(changes))

    def delete_integration_action(self, pk: int) -> None:
        """DELETE is idempotent: a 404 after our own earlier attempt means it is gone."""
        try:
            self.http.delete(self.channel_path("integration_actions", pk))
        except NotFoundError:
            logger.info("integration action %s was already deleted", pk)

    # Batch requests -----------------------------------------------------------------------

    def create_batch_request(self) -> BatchRequest:
        """A new batch (status ``initialized``): the run's lock and journal."""
        body = {"channel": self.channel_id}
        return self.create(self.channel_path("batch_requests"), BatchRequest, body)

    def get_batch_request(self, pk: int) -> BatchRequest:
        return self.get_one(self.channel_path("batch_requests", pk), BatchRequest)

    def batch_requests(
        self,
        statuses: Sequence[BatchRequestStatus | str] = (),
        content_type: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> Paginated[BatchRequest]:
        """E.g. the open async batches: ``statuses=("sent_to_remote", "ongoing")``."""
        params: dict[str, Any] = {"content_type": content_type, "channel": self.channel_id}
        if statuses:
            params["status"] = [str(status) for status in statuses]
        params.update(filters)
        path = self.channel_path("batch_requests")
        return self.list_of(path, BatchRequest, params, page_size=page_size)

    def transition_batch_request(
        self, pk: int, status: BatchRequestStatus, **fields: Any
    ) -> BatchRequest:
        """Move a batch to ``status``; treat "already there" as success.

        The PATCH is retried like any PATCH. If a first attempt was applied but its answer
        lost, the repeat is refused with 406 (``done`` -> ``done`` is not a transition); we
        then read the batch, and if it already has the target status the transition did
        happen, so the refusal is not an error.
        """
        body = {"channel": self.channel_id, "status": status, **fields}
        try:
            return self.update(self.channel_path("batch_requests", pk), BatchRequest, body)
        except ItemError as error:
            if error.status_code != 406:
                raise
            current = self.get_batch_request(pk)
            if current.status == status:
                logger.warning("batch request %s was already %s", pk, status.value)
                return current
            raise

    def commit_batch_request(
        self, pk: int, content_type: str, objects: Sequence[BatchRequestObject]
    ) -> BatchRequest:
        """Lock ``objects`` under this batch (their mappings become ``processing``)."""
        return self.transition_batch_request(
            pk, BatchRequestStatus.COMMIT, content_type=content_type, objects=_objects(objects)
        )

    def mark_batch_sent_to_remote(self, pk: int, remote_batch_id: str) -> BatchRequest:
        return self.transition_batch_request(
            pk, BatchRequestStatus.SENT_TO_REMOTE, remote_batch_id=remote_batch_id
        )

    def mark_batch_ongoing(self, pk: int) -> BatchRequest:
        return self.transition_batch_request(pk, BatchRequestStatus.ONGOING)

    def mark_batch_done(self, pk: int, objects: Sequence[BatchRequestObject]) -> BatchRequest:
        """Objects with ``remote_id`` become ``success``, with ``failed_reason_type`` errors."""
        return self.transition_batch_request(pk, BatchRequestStatus.DONE, objects=_objects(objects))

    def mark_batch_failed(
        self, pk: int, objects: Sequence[BatchRequestObject] | None = None
    ) -> BatchRequest:
        payload = None if objects is None else _objects(objects)
        return self.transition_batch_request(pk, BatchRequestStatus.FAIL, objects=payload)

    def batch_integration_actions(
        self, local_batch_id: str, status: IntegrationActionStatus | None = None
    ) -> Paginated[IntegrationAction]:
        """The mappings a batch locked, to learn which objects it carried."""
        return self.integration_actions(local_batch_id=local_batch_id, status=status, sort="id")

    # Error reports ------------------------------------------------------------------------

    def create_error_report(self, report: ErrorReport | Mapping[str, Any]) -> ErrorReport:
        """Never repeated after an ambiguous failure (a duplicate report is noise)."""
        body = report if isinstance(report, Mapping) else _report_body(report)
        return self.create(self.channel_path("error_reports"), ErrorReport, dict(body))

    def report_error(
        self,
        action_model: str,
        action_object_id: int,
        *,
        error_code: str,
        error_desc: str,
        obj_modified_date: str | None = None,
        raw_request: str = "",
        raw_response: str = "",
        is_ok: bool = False,
        target_model: str = "channel",
        target_object_id: int | None = None,
    ) -> ErrorReport:
        """An error report on one object; content types given by model name."""
        report = ErrorReport(
            action_content_type=self.content_type_id(action_model),
            action_object_id=action_object_id,
            target_content_type=self.content_type_id(target_model),
            target_object_id=target_object_id if target_object_id is not None else self.channel_id,
            obj_modified_date=obj_modified_date,
            error_code=error_code,
            error_desc=error_desc,
            raw_request=raw_request,
            raw_response=raw_response,
            is_ok=is_ok,
        )
        return self.create_error_report(report)

    def create_address_error_report(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``error_reports/{country|city|township|district}/``: an address mapping task."""
        if kind not in ("country", "city", "township", "district"):
            raise ValueError(f"unknown address error kind {kind!r}")
        data = self.http.post(self.channel_path("error_reports", kind), dict(body))
        return data if isinstance(data, dict) else {}


def _objects(objects: Sequence[BatchRequestObject]) -> list[dict[str, Any]]:
    """Every field, nulls included, as Akinon's clients send them."""
    return [item.model_dump(mode="json") for item in objects]


def _report_body(report: ErrorReport) -> dict[str, Any]:
    return report.model_dump(mode="json", exclude={"pk", "id"}, exclude_none=True)
