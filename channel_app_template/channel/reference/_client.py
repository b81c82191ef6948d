"""The reference marketplace's seller API as methods: one per call, typed in and out.

What each call sends and gets back is in :mod:`._wire`; this peer's headers and error rules
are in :mod:`._transport`; how its lists are paged is in :mod:`._paging`. The public face,
with the tour of the API, is :mod:`channel_app_template.channel.reference.marketplace_client`.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from channel_app_template.channel.reference._paging import (
    NUMBERS_PER_QUERY,
    PAGE_SIZE,
    ack_param,
    batch_body,
    chunks,
    cursor_rows,
    product_pages,
)
from channel_app_template.channel.reference._reading import (
    parse,
    parse_list,
    read_order,
    read_row,
)
from channel_app_template.channel.reference._transport import (
    API_KEY_HEADER,
    API_PREFIX,
    IDEMPOTENCY_HEADER,
    MARKETPLACE_ERRORS,
    MAX_ITEMS_PER_REQUEST,
    PEER,
    REPEATABLE_METHODS,
    USER_AGENT,
    error_object,
)
from channel_app_template.channel.reference._wire import (
    Attribute,
    AttributeValue,
    Batch,
    BatchSummary,
    BulkResult,
    Category,
    CategoryAttribute,
    CategoryNode,
    Claim,
    ImageUpdate,
    MarketOrder,
    OrderBulkResult,
    OrderEvent,
    OrderItemResult,
    OrderStatusUpdate,
    PriceUpdate,
    Product,
    ProductUpsert,
    StockUpdate,
    UnreadableOrder,
    UnreadableRow,
)
from channel_app_template.errors import ConfigurationError, NotFoundError, RetryLater
from channel_app_template.transport import (
    Answer,
    ApiKeyAuth,
    Closing,
    HttpClient,
    Limits,
    RetryPolicy,
    Timeouts,
    expect_list,
)

__all__ = ["MarketplaceClient"]


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
            headers={"User-Agent": USER_AGENT},
            idempotent_methods=REPEATABLE_METHODS,
            classify=MARKETPLACE_ERRORS,
            error_payload=error_object,
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
        return parse_list(Category, self._items("/categories"), "/categories")

    def category_tree(self) -> list[CategoryNode]:
        """The roots of the category tree, each with nested ``children``."""
        path = "/categories/tree"
        return parse_list(CategoryNode, self._items(path), path)

    def get_category(self, category_id: int) -> Category:
        """One category with its attributes (``NotFoundError`` if unknown)."""
        path = f"/categories/{int(category_id)}"
        return parse(Category, self.request("GET", path), path)

    def category_attributes(self, category_id: int) -> list[CategoryAttribute]:
        path = f"/categories/{int(category_id)}/attributes"
        return parse_list(CategoryAttribute, self._items(path), path)

    def list_attributes(self) -> list[Attribute]:
        """Every attribute with its values (category-independent view)."""
        return parse_list(Attribute, self._items("/attributes"), "/attributes")

    def attribute_values(self, attribute_id: int) -> list[AttributeValue]:
        path = f"/attributes/{int(attribute_id)}/values"
        return parse_list(AttributeValue, self._items(path), path)

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
        return parse(Batch, batch_body(self.http, path, params), path)

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
        return parse(Product, body, "/products/{sku}")

    def iter_products(
        self, skus: Sequence[str] | None = None, *, status: str = "active"
    ) -> Iterator[Product]:
        """All products (optionally only these SKUs), page by page; memory stays bounded."""
        for chunk in chunks(list(skus or []), PAGE_SIZE):
            for rows in product_pages(self.http, {"status": status, "sku": chunk}):
                yield from parse_list(Product, rows, "/products")

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
        params: dict[str, Any] = {"acknowledged": ack_param(acknowledged)}
        if status:
            params["status"] = status
        for chunk in chunks(list(numbers or []), NUMBERS_PER_QUERY):
            if chunk:
                params["number"] = chunk
            for raw in cursor_rows(self.http, "/orders", params, page_size):
                yield read_order(raw)

    def get_order(self, order_id: str) -> MarketOrder | UnreadableOrder | None:
        """One order by its marketplace id, or ``None`` when there is no such order."""
        try:
            body = self.request("GET", f"/orders/{quote(order_id, safe='')}")
        except NotFoundError:
            return None
        return read_order(body)

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
        return parse(OrderBulkResult, body, "/orders/status")

    def iter_order_events(
        self,
        event_type: Literal["line_update", "cancellation"] | None = None,
        *,
        acknowledged: bool | None = False,
        page_size: int = 100,
    ) -> Iterator[OrderEvent | UnreadableRow]:
        """Marketplace-side changes, oldest first (default: unacknowledged ones); an event
        that does not parse is an :class:`UnreadableRow`, never an exception."""
        params: dict[str, Any] = {"acknowledged": ack_param(acknowledged)}
        if event_type:
            params["type"] = event_type
        for raw in cursor_rows(self.http, "/order-events", params, page_size):
            yield read_row(OrderEvent, raw)

    def acknowledge_order_events(self, event_ids: Sequence[str]) -> OrderBulkResult:
        """Mark events as applied (idempotent; chunks of 1000)."""
        return self._ack("/order-events/acknowledge", "event_id", event_ids)

    def iter_claims(
        self, *, acknowledged: bool | None = False, status: str | None = None, page_size: int = 100
    ) -> Iterator[Claim | UnreadableRow]:
        """Buyers' cancellation and return requests, oldest first; a claim that does not
        parse is an :class:`UnreadableRow`, never an exception."""
        params: dict[str, Any] = {"acknowledged": ack_param(acknowledged)}
        if status:
            params["status"] = status
        for raw in cursor_rows(self.http, "/claims", params, page_size):
            yield read_row(Claim, raw)

    def get_claim(self, claim_id: str) -> Claim | None:
        try:
            body = self.request("GET", f"/claims/{quote(claim_id, safe='')}")
        except NotFoundError:
            return None
        return parse(Claim, body, "/claims/{id}")

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
        return parse(Claim, self.request("PUT", path, json_body=body), "/claims/{id}")

    def _ack(self, path: str, key: str, ids: Sequence[str]) -> OrderBulkResult:
        """A bulk acknowledgement in chunks of 1000; results re-indexed to ``ids``."""
        results: list[OrderItemResult] = []
        for start in range(0, len(ids), MAX_ITEMS_PER_REQUEST):
            chunk = ids[start : start + MAX_ITEMS_PER_REQUEST]
            body = self.request(
                "POST", path, json_body={"items": [{key: i} for i in chunk]}, idempotent=True
            )
            part = parse(OrderBulkResult, body, path)
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
        return parse(BatchSummary, body, path)

    def _bulk(self, method: str, path: str, items: list[dict[str, Any]]) -> BulkResult:
        self._check_size(items)
        body = self.request(method, path, json_body={"items": items}, idempotent=True)
        return parse(BulkResult, body, path)

    @staticmethod
    def _check_size(items: list[dict[str, Any]]) -> None:
        if not items:
            raise ValueError("send at least one item")
        if len(items) > MAX_ITEMS_PER_REQUEST:
            raise ValueError(
                f"{len(items)} items; the marketplace takes at most {MAX_ITEMS_PER_REQUEST} "
                "per request, split them"
            )

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
