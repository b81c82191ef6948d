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
from channel_app_template.core.run.runner import parked, run_job, time_limits

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


def _flow_task(name: str) -> Task:
    def run(self: Task, **params: Any) -> dict[str, Any]:
        return run_job(name, settings, _progress(self), **params)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"Flow {name!r} (see channel_app_template.core.run.runner.JOBS)."
    soft, hard = time_limits(settings.flow_time_budget)
    task: Task = app.task(name=PREFIX + name, bind=True, soft_time_limit=soft, time_limit=hard)(run)
    return task


# One module attribute per task, so ``tasks.insert_and_update_products.delay()`` works.
update_channel_conf_schema = _flow_task("update_channel_conf_schema")
create_or_update_category_tree_and_nodes = _flow_task("create_or_update_category_tree_and_nodes")
create_or_update_category_attributes = _flow_task("create_or_update_category_attributes")
create_or_update_attributes = _flow_task("create_or_update_attributes")
insert_and_update_products = _flow_task("insert_and_update_products")
update_products = _flow_task("update_products")
check_products = _flow_task("check_products")
delete_products = _flow_task("delete_products")
check_delete_products = _flow_task("check_delete_products")
insert_and_update_stocks = _flow_task("insert_and_update_stocks")
update_stocks = _flow_task("update_stocks")
check_stocks = _flow_task("check_stocks")
insert_and_update_prices = _flow_task("insert_and_update_prices")
update_prices = _flow_task("update_prices")
check_prices = _flow_task("check_prices")
insert_and_update_images = _flow_task("insert_and_update_images")
update_images = _flow_task("update_images")
check_images = _flow_task("check_images")
fetch_orders = _flow_task("fetch_orders")
update_orders = _flow_task("update_orders")
check_orders = _flow_task("check_orders")
fetch_and_update_order_items = _flow_task("fetch_and_update_order_items")
fetch_and_create_cancel = _flow_task("fetch_and_create_cancel")
fetch_and_create_cancellation_requests = _flow_task("fetch_and_create_cancellation_requests")
update_cancellation_requests = _flow_task("update_cancellation_requests")
resend_failed = _flow_task("resend_failed")


@app.task(name=PREFIX + "list_parked_orders")
def list_parked_orders(kind: str = "orders") -> dict[str, Any]:
    """Orders (or ``item_updates``, ``cancellations``, ``cancellation_requests``) that
    failed too often and wait for an operator."""
    return parked(settings, kind, None)


@app.task(name=PREFIX + "retry_parked_orders")
def retry_parked_orders(numbers: list[str] | None = None, kind: str = "orders") -> dict[str, Any]:
    """Give parked items (all, or these) a fresh set of attempts on the next runs."""
    return parked(settings, kind, numbers or [])
