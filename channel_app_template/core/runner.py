"""How a Celery task runs a flow: settings -> runtime -> single-flight lock -> flow.

Every task is a :class:`Job` in :data:`JOBS`: the lock it takes and the flow it runs.
Tasks stay one line each (see :mod:`channel_app_template.tasks`); what they share, from
the lock to the progress reports Flower shows, is here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from channel_app_template.core import setup_flows
from channel_app_template.core.flows import FlowSummary
from channel_app_template.core.order_events import EventSummary, OrderEvents
from channel_app_template.core.orders import OrderIngestion, OrderOptions
from channel_app_template.core.resources import RESOURCES, CatalogResource
from channel_app_template.core.runtime import Runtime, open_runtime
from channel_app_template.settings import Settings

logger = logging.getLogger(__name__)

ReportProgress = Callable[[dict[str, Any]], None]
Flow = Callable[[Runtime, ReportProgress], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    """One task: the lock that keeps its runs from overlapping, and what it runs.

    Jobs that open batch requests of a content type share that content type's lock
    (Omnitron allows one committed batch per content type), so, for instance, order
    ingestion and outbound order updates never run at the same time.
    """

    lock_name: str
    run: Flow


# --- Catalog jobs: the engine on one resource -----------------------------------------------


def _catalog(resource_name: str, *kinds: str) -> Job:
    """``kinds`` in order: "inserts", "updates", "deleted" (deletions) or "check"."""
    resource = RESOURCES[resource_name]

    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        summaries: list[FlowSummary] = []
        step = [""]  # what the engine is doing now, for the progress line
        engine = runtime.engine(
            lambda done, total: report({"step": step[0], "done": done, "total": total})
        )
        for kind in kinds:
            if kind == "check":
                step[0] = f"{resource.name} check"
                summaries.append(engine.check(resource))
                continue
            for list_id in [None, *_extra_lists(runtime, resource)]:
                step[0] = f"{resource.name} {kind}" + (f" (list {list_id})" if list_id else "")
                summaries.append(engine.send(resource, kind, list_id))
        return {"runs": [summary.as_dict() for summary in summaries]}

    return Job(f"catalog:{resource.model}", run)


def _extra_lists(runtime: Runtime, resource: CatalogResource) -> list[int]:
    if resource.list_setting is None:
        return []
    catalog = runtime.omnitron.catalog
    available = (
        catalog.extra_stock_lists if resource.model == "productstock" else catalog.extra_price_lists
    )
    return runtime.extra_lists(resource.list_setting, list(available))


# --- Inbound order jobs -------------------------------------------------------------------


def _ingest(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
    identifier = runtime.channel.config.setting("CUSTOMER_IDENTIFIER_FIELD") or "email"
    options = OrderOptions.from_settings(runtime.settings, str(identifier))
    ingestion = OrderIngestion(runtime.omnitron, runtime.channel, runtime.ledger("orders"), options)
    return ingestion.run().as_dict()


def _events(method: str, ledger: str) -> Flow:
    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        events = OrderEvents(runtime.omnitron, runtime.channel, runtime.ledger(ledger))
        summary: EventSummary = getattr(events, method)()
        return summary.as_dict()

    return run


# --- Setup jobs -------------------------------------------------------------------------


def _setup(name: str) -> Job:
    flow = getattr(setup_flows, name)

    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        result: dict[str, Any] = flow(runtime.omnitron, runtime.channel)
        return result

    return Job(f"setup:{name}", run)


JOBS: dict[str, Job] = {
    "update_channel_conf_schema": _setup("update_channel_conf_schema"),
    "create_or_update_category_tree_and_nodes": _setup("create_or_update_category_tree_and_nodes"),
    "create_or_update_category_attributes": _setup("create_or_update_category_attributes"),
    "create_or_update_attributes": _setup("create_or_update_attributes"),
    "insert_and_update_products": _catalog("products", "inserts", "updates"),
    "update_products": _catalog("products", "updates"),
    "check_products": _catalog("products", "check"),
    "delete_products": _catalog("deleted_products", "deleted"),
    "check_delete_products": _catalog("deleted_products", "check"),
    "insert_and_update_stocks": _catalog("stocks", "inserts", "updates"),
    "update_stocks": _catalog("stocks", "updates"),
    "check_stocks": _catalog("stocks", "check"),
    "insert_and_update_prices": _catalog("prices", "inserts", "updates"),
    "update_prices": _catalog("prices", "updates"),
    "check_prices": _catalog("prices", "check"),
    "insert_and_update_images": _catalog("images", "inserts", "updates"),
    "update_images": _catalog("images", "updates"),
    "check_images": _catalog("images", "check"),
    "update_orders": _catalog("orders", "updates"),
    "check_orders": _catalog("orders", "check"),
    "update_cancellation_requests": _catalog("cancellation_requests", "updates"),
    "fetch_orders": Job("catalog:order", _ingest),
    "fetch_and_update_order_items": Job(
        "orders:item_updates", _events("update_order_items", "item_updates")
    ),
    "fetch_and_create_cancel": Job("orders:cancel", _events("cancel", "cancellations")),
    "fetch_and_create_cancellation_requests": Job(
        "catalog:cancellationrequest",
        _events("create_cancellation_requests", "cancellation_requests"),
    ),
}


def run_job(name: str, settings: Settings, report: ReportProgress) -> dict[str, Any]:
    """Run job ``name`` unless another run of it holds its lock; a JSON-able summary."""
    job = JOBS[name]
    started = time.monotonic()
    with open_runtime(settings) as runtime, runtime.locks.hold(job.lock_name) as acquired:
        if not acquired:
            return {"task": name, "skipped": "another run of this flow is in progress"}
        result = job.run(runtime, lambda meta: report({"task": name, **meta}))
        return {"task": name, "seconds": round(time.monotonic() - started, 2), **result}


def parked(settings: Settings, kind: str, retry: Sequence[str] | None) -> dict[str, Any]:
    """List parked items of ``kind``; with ``retry``, give them (or all, if empty) new tries."""
    with open_runtime(settings) as runtime:
        ledger = runtime.ledger(kind)
        if retry is None:
            return {"kind": kind, "parked": ledger.parked()}
        return {"kind": kind, "unparked": ledger.unpark(list(retry) or None)}
