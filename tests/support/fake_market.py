"""An in-memory marketplace for engine tests against the real Omnitron simulator, and the
helpers those tests share (an engine over it, the simulator's actions and batches)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.channel import (
    BatchRequestResponseDto,
    ChannelConfig,
    ChannelIntegration,
    DeletedItem,
    IntegrationContext,
    PriceItem,
    ProductBatchRequestResponseDto,
    ProductItem,
    ResponseStatus,
    StockItem,
    Submitted,
)
from channel_app_template.core.budget import Budget
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.flows import CatalogEngine, CommitGate, EngineOptions
from channel_app_template.core.engine.journal import BatchJournal
from tests.support.omnitron import OmnitronSim

REJECTED = {"SKU-0000007", "SKU-0000013"}


class FakeMarket(ChannelIntegration):
    """An in-memory marketplace; ``asynchronous`` makes it answer with job ids."""

    max_batch_size = 15

    def __init__(self, config: ChannelConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        self.products: dict[str, dict[str, Any]] = {}
        self.stocks: dict[str, int] = {}
        self.prices: dict[str, str] = {}
        self.asynchronous = False
        self.jobs: dict[str, list[ProductBatchRequestResponseDto] | None] = {}
        self.on_send: Any = None
        self.fail_with: Exception | None = None
        self.calls = 0
        self.refuse: Callable[[Any], str | None] | None = None
        """A test's own refusal rule: the message to refuse an item with, or None."""
        self.deletions = 0

    def check_connection(self) -> None:
        return None

    def _upsert(self, items: Sequence[ProductItem]) -> list[ProductBatchRequestResponseDto]:
        self.calls += 1
        if self.on_send:
            self.on_send(items)
        if self.fail_with:
            raise self.fail_with
        rows = []
        for item in items:
            refusal = self.refuse(item) if self.refuse else None
            if refusal:
                rows.append(
                    ProductBatchRequestResponseDto(
                        status=ResponseStatus.FAIL, sku=item.sku, message=refusal
                    )
                )
                continue
            if item.sku in REJECTED:
                rows.append(
                    ProductBatchRequestResponseDto(
                        status=ResponseStatus.FAIL, sku=item.sku, message="title too long"
                    )
                )
                continue
            remote = self.products.setdefault(item.sku, {"id": f"mp-{item.sku}"})["id"]
            self.products[item.sku]["name"] = item.obj.name
            rows.append(
                ProductBatchRequestResponseDto(
                    status=ResponseStatus.SUCCESS, sku=item.sku, remote_id=remote
                )
            )
        return rows

    def send_inserted_products(self, items: Sequence[ProductItem]) -> Any:
        rows = self._upsert(items)
        if self.asynchronous:
            job = f"job-{len(self.jobs) + 1}"
            self.jobs[job] = rows
            return Submitted(remote_batch_id=job)
        return rows

    send_updated_products = send_inserted_products

    def check_products(self, remote_batch_id: str) -> Any:
        return self.jobs.get(remote_batch_id)

    def send_deleted_products(self, items: Sequence[DeletedItem]) -> Any:
        rows = []
        self.deletions += len(items)
        for item in items:
            refusal = self.refuse(item) if self.refuse else None
            if refusal:
                rows.append(
                    ProductBatchRequestResponseDto(
                        status=ResponseStatus.FAIL,
                        sku="",
                        remote_id=item.remote_id or "",
                        message=refusal,
                    )
                )
                continue
            sku = next((s for s, p in self.products.items() if p["id"] == item.remote_id), None)
            if sku:
                del self.products[sku]
            rows.append(
                ProductBatchRequestResponseDto(
                    status=ResponseStatus.SUCCESS, sku=sku or "", remote_id=item.remote_id or ""
                )
            )
        return rows

    def send_inserted_stocks(self, items: Sequence[StockItem]) -> Any:
        for item in items:
            self.stocks[item.sku] = int(item.obj.stock or 0)
        return [BatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku) for i in items]

    send_updated_stocks = send_inserted_stocks

    def send_inserted_prices(self, items: Sequence[PriceItem]) -> Any:
        for item in items:
            self.prices[item.sku] = str(item.obj.price)
        return [BatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku) for i in items]

    send_updated_prices = send_inserted_prices


def make_engine(
    sim: OmnitronSim,
    cache: redis.Redis,
    *,
    book: FailureBook | None = None,
    budget: Budget | None = None,
    commit_gate: CommitGate | None = None,
) -> tuple[CatalogEngine, FakeMarket]:
    client = OmnitronClient(
        f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
    )
    omnitron = OmnitronIntegration(client)
    omnitron.reports = book
    channel = FakeMarket(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("fake")))
    journal = BatchJournal(cache, 1, 3600)
    engine = CatalogEngine(
        omnitron,
        channel,
        journal,
        EngineOptions(batch_size=15),
        book=book,
        budget=budget,
        commit_gate=commit_gate,
    )
    return engine, channel


def actions(sim: OmnitronSim, model: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.inspect(f"integration_actions/?model={model}&limit=10000")[
        "results"
    ]
    return rows


def batches(sim: OmnitronSim) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.inspect("batch_requests/?limit=10000")["results"]
    return rows


def products(sim: OmnitronSim) -> dict[int, dict[str, Any]]:
    rows = sim.client().all_pages("/channel/1/products/", limit=500)
    return {row["pk"]: row for row in rows}


def reports(sim: OmnitronSim) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.client().all_pages("/channel/1/error_reports/", limit=500)
    return rows
