"""Celery tasks: one thin task per flow, each only calling its flow.

Task names are those of Akinon's channel app template
(``channel_app_template.app.tasks.<name>``), so Flower trigger scripts written for it
keep working. Each returns a small JSON summary that Flower shows; long runs report a
``PROGRESS`` state with ``done``/``total`` while they work.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from celery import Task

from channel_app_template.celery_app import app, settings
from channel_app_template.core.runner import (
    parked,
    run_catalog_job,
    run_order_job,
    run_setup_job,
)
from channel_app_template.core.runtime import Runtime

PREFIX = "channel_app_template.app.tasks."


def _progress(task: Task) -> Any:
    def report(meta: dict[str, Any]) -> None:
        if task.request.id and not task.request.called_directly:
            # The result backend (AsyncResult.info) and Flower's task info (from the
            # event, as ``result`` while the state is PROGRESS) both show the counts.
            task.update_state(state="PROGRESS", meta=meta)
            task.send_event("task-progress", result=meta)

    return report


@app.task(name=PREFIX + "ping")
def ping() -> dict[str, Any]:
    """A no-op round trip: proves broker, worker and result backend work together."""
    return {"pong": True, "worker": socket.gethostname(), "at": time.time()}


def _catalog_task(name: str) -> Task:
    def run(self: Task) -> dict[str, Any]:
        return run_catalog_job(name, settings, _progress(self))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"Catalog flow {name!r} (see channel_app_template.core.runner.CATALOG_JOBS)."
    task: Task = app.task(name=PREFIX + name, bind=True)(run)
    return task


# One module attribute per task, so ``tasks.insert_and_update_products.delay()`` works.
insert_and_update_products = _catalog_task("insert_and_update_products")
update_products = _catalog_task("update_products")
check_products = _catalog_task("check_products")
delete_products = _catalog_task("delete_products")
check_delete_products = _catalog_task("check_delete_products")
insert_and_update_stocks = _catalog_task("insert_and_update_stocks")
update_stocks = _catalog_task("update_stocks")
check_stocks = _catalog_task("check_stocks")
insert_and_update_prices = _catalog_task("insert_and_update_prices")
update_prices = _catalog_task("update_prices")
check_prices = _catalog_task("check_prices")
insert_and_update_images = _catalog_task("insert_and_update_images")
update_images = _catalog_task("update_images")
check_images = _catalog_task("check_images")
update_orders = _catalog_task("update_orders")
check_orders = _catalog_task("check_orders")
update_cancellation_requests = _catalog_task("update_cancellation_requests")


def _setup(name: str, runtime: Runtime) -> dict[str, Any]:
    import importlib

    flow = getattr(importlib.import_module("channel_app_template.core.setup_flows"), name)
    result: dict[str, Any] = flow(runtime.omnitron, runtime.channel)
    return result


@app.task(name=PREFIX + "update_channel_conf_schema")
def update_channel_conf_schema() -> dict[str, Any]:
    return run_setup_job(
        "update_channel_conf_schema", settings, lambda rt: _setup("update_channel_conf_schema", rt)
    )


@app.task(name=PREFIX + "create_or_update_category_tree_and_nodes")
def create_or_update_category_tree_and_nodes() -> dict[str, Any]:
    return run_setup_job(
        "create_or_update_category_tree_and_nodes",
        settings,
        lambda rt: _setup("create_or_update_category_tree_and_nodes", rt),
    )


@app.task(name=PREFIX + "create_or_update_category_attributes")
def create_or_update_category_attributes() -> dict[str, Any]:
    return run_setup_job(
        "create_or_update_category_attributes",
        settings,
        lambda rt: _setup("create_or_update_category_attributes", rt),
    )


@app.task(name=PREFIX + "create_or_update_attributes")
def create_or_update_attributes() -> dict[str, Any]:
    return run_setup_job(
        "create_or_update_attributes",
        settings,
        lambda rt: _setup("create_or_update_attributes", rt),
    )


def _order_task(name: str) -> Task:
    def run() -> dict[str, Any]:
        return run_order_job(name, settings)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"Order flow {name!r} (see channel_app_template.core.runner.ORDER_JOBS)."
    task: Task = app.task(name=PREFIX + name)(run)
    return task


fetch_orders = _order_task("fetch_orders")
fetch_and_update_order_items = _order_task("fetch_and_update_order_items")
fetch_and_create_cancel = _order_task("fetch_and_create_cancel")
fetch_and_create_cancellation_requests = _order_task("fetch_and_create_cancellation_requests")


@app.task(name=PREFIX + "list_parked_orders")
def list_parked_orders(kind: str = "orders") -> dict[str, Any]:
    """Orders (or ``item_updates``, ``cancellations``, ``cancellation_requests``) that
    failed too often and wait for an operator."""
    return parked(settings, kind, None)


@app.task(name=PREFIX + "retry_parked_orders")
def retry_parked_orders(numbers: list[str] | None = None, kind: str = "orders") -> dict[str, Any]:
    """Give parked items (all, or these) a fresh set of attempts on the next runs."""
    return parked(settings, kind, numbers or [])
