"""How a Celery task runs a flow: settings -> runtime -> single-flight lock -> engine.

Tasks stay one line each (see :mod:`channel_app_template.tasks`); everything they share,
from the lock to the progress reports Flower shows, is here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from channel_app_template.core.flows import FlowSummary
from channel_app_template.core.order_events import EventSummary, OrderEvents
from channel_app_template.core.orders import OrderIngestion, OrderOptions
from channel_app_template.core.resources import RESOURCES
from channel_app_template.core.runtime import Runtime, open_runtime
from channel_app_template.settings import Settings

logger = logging.getLogger(__name__)

ReportProgress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class CatalogJob:
    """A catalog task: one resource, the kinds of run it makes, in order."""

    resource: str
    kinds: Sequence[str]  # "inserts", "updates", "deleted" or "check"

    @property
    def lock_name(self) -> str:
        return f"catalog:{RESOURCES[self.resource].model}"


CATALOG_JOBS: dict[str, CatalogJob] = {
    "insert_and_update_products": CatalogJob("products", ("inserts", "updates")),
    "update_products": CatalogJob("products", ("updates",)),
    "check_products": CatalogJob("products", ("check",)),
    "delete_products": CatalogJob("deleted_products", ("deleted",)),
    "check_delete_products": CatalogJob("deleted_products", ("check",)),
    "insert_and_update_stocks": CatalogJob("stocks", ("inserts", "updates")),
    "update_stocks": CatalogJob("stocks", ("updates",)),
    "check_stocks": CatalogJob("stocks", ("check",)),
    "insert_and_update_prices": CatalogJob("prices", ("inserts", "updates")),
    "update_prices": CatalogJob("prices", ("updates",)),
    "check_prices": CatalogJob("prices", ("check",)),
    "insert_and_update_images": CatalogJob("images", ("inserts", "updates")),
    "update_images": CatalogJob("images", ("updates",)),
    "check_images": CatalogJob("images", ("check",)),
    "update_orders": CatalogJob("orders", ("updates",)),
    "check_orders": CatalogJob("orders", ("check",)),
    "update_cancellation_requests": CatalogJob("cancellation_requests", ("updates",)),
}


@dataclass(frozen=True)
class OrderJob:
    """An inbound order task. Jobs that open batches of a content type share that
    content type's lock with the engine's jobs (Omnitron allows one committed batch per
    content type)."""

    lock_name: str
    run: Callable[[Runtime], dict[str, Any]]


def _ingest(runtime: Runtime) -> dict[str, Any]:
    options = OrderOptions(
        customer_identifier=str(
            (runtime.channel.config.model_extra or {}).get("CUSTOMER_IDENTIFIER_FIELD") or "email"
        )
    )
    ingestion = OrderIngestion(runtime.omnitron, runtime.channel, runtime.ledger("orders"), options)
    return ingestion.run().as_dict()


def _events(method: str, ledger: str) -> Callable[[Runtime], dict[str, Any]]:
    def run(runtime: Runtime) -> dict[str, Any]:
        events = OrderEvents(runtime.omnitron, runtime.channel, runtime.ledger(ledger))
        summary: EventSummary = getattr(events, method)()
        return summary.as_dict()

    return run


ORDER_JOBS: dict[str, OrderJob] = {
    "fetch_orders": OrderJob("catalog:order", _ingest),
    "fetch_and_update_order_items": OrderJob(
        "orders:item_updates", _events("update_order_items", "item_updates")
    ),
    "fetch_and_create_cancel": OrderJob("orders:cancel", _events("cancel", "cancellations")),
    "fetch_and_create_cancellation_requests": OrderJob(
        "catalog:cancellationrequest",
        _events("create_cancellation_requests", "cancellation_requests"),
    ),
}


def run_order_job(name: str, settings: Settings) -> dict[str, Any]:
    job = ORDER_JOBS[name]
    started = time.monotonic()
    with open_runtime(settings) as runtime, runtime.locks.hold(job.lock_name) as acquired:
        if not acquired:
            return {"task": name, "skipped": "another run of this flow is in progress"}
        result = job.run(runtime)
        return {"task": name, "seconds": round(time.monotonic() - started, 2), **result}


def parked(settings: Settings, kind: str, retry: Sequence[str] | None) -> dict[str, Any]:
    """List parked items of ``kind``; with ``retry``, give them (or all, if empty) new tries."""
    with open_runtime(settings) as runtime:
        ledger = runtime.ledger(kind)
        if retry is None:
            return {"kind": kind, "parked": ledger.parked()}
        return {"kind": kind, "unparked": ledger.unpark(list(retry) or None)}


def run_catalog_job(name: str, settings: Settings, report: ReportProgress) -> dict[str, Any]:
    job = CATALOG_JOBS[name]
    resource = RESOURCES[job.resource]
    started = time.monotonic()
    with open_runtime(settings) as runtime, runtime.locks.hold(job.lock_name) as acquired:
        if not acquired:
            return {"task": name, "skipped": "another run of this flow is in progress"}
        summaries: list[FlowSummary] = []
        step = [""]  # what the engine is doing now, for the progress line

        def progress(done: int, total: int | None) -> None:
            report({"task": name, "step": step[0], "done": done, "total": total})

        engine = runtime.engine(progress)
        for kind in job.kinds:
            if kind == "check":
                step[0] = f"{resource.name} check"
                summaries.append(engine.check(resource))
                continue
            for list_id in [None, *_extra_lists(runtime, resource.list_setting, resource.model)]:
                step[0] = f"{resource.name} {kind}" + (f" (list {list_id})" if list_id else "")
                summaries.append(engine.send(resource, kind, list_id))
        return {
            "task": name,
            "seconds": round(time.monotonic() - started, 2),
            "runs": [summary.as_dict() for summary in summaries],
        }


def _extra_lists(runtime: Runtime, setting: str | None, model: str) -> list[int]:
    if setting is None:
        return []
    catalog = runtime.omnitron.catalog
    available = catalog.extra_stock_lists if model == "productstock" else catalog.extra_price_lists
    return runtime.extra_lists(setting, list(available))


def run_setup_job(
    name: str, settings: Settings, flow: Callable[[Runtime], dict[str, Any]]
) -> dict[str, Any]:
    started = time.monotonic()
    with open_runtime(settings) as runtime, runtime.locks.hold(f"setup:{name}") as acquired:
        if not acquired:
            return {"task": name, "skipped": "another run of this flow is in progress"}
        result = flow(runtime)
        return {"task": name, "seconds": round(time.monotonic() - started, 2), **result}
