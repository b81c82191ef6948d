"""Celery tasks: one per flow of the registry (:mod:`channel_app_template.core.run.flows`).

Task names are those of Akinon's channel app template
(``channel_app_template.app.tasks.<name>``), so Flower trigger scripts written for it
keep working. A flow task only runs its job (:func:`~channel_app_template.core.run.runner.run_job`)
under Celery's time limits (from ``FLOW_TIME_BUDGET``) and returns a small JSON summary
that Flower shows; long runs report a ``PROGRESS`` state with ``done``/``total`` while they
work. The registry's tools (``ping``, the parked-order tasks) have signatures of their own
and are written out below. Every task is also a module attribute, so
``tasks.insert_and_update_products.delay()`` works.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import Task, group

from channel_app_template.celery_app import app, settings
from channel_app_template.core.run.fanout_run import run_window
from channel_app_template.core.run.flows import FLOWS, TASK_PREFIX, Flow, Work
from channel_app_template.core.run.runner import parked, run_job, time_limits

__all__ = ["FANOUT_WINDOW_TASK", "PREFIX", "TASKS", "fanout_window", *FLOWS.names]

PREFIX = TASK_PREFIX
FANOUT_WINDOW_TASK = "channel_app_template.fanout_window"  # not a flow: no flow prefix


def _progress(task: Task) -> Any:
    def report(meta: dict[str, Any]) -> None:
        if task.request.id and not task.request.called_directly:
            # The result backend (AsyncResult.info) and Flower's task info (from the
            # event, as ``result`` while the state is PROGRESS) both show the counts.
            task.update_state(state="PROGRESS", meta=meta)
            task.send_event("task-progress", result=meta)

    return report


def _fanout_window(self: Task, order: dict[str, Any]) -> dict[str, Any]:
    """One window of a fanned-out catalog send (see core/run/fanout.py). Acknowledged
    late and re-queued if its worker process dies: the window is claimed again."""
    return run_window(settings, order, _progress(self))


_soft, _hard = time_limits(settings.flow_time_budget)
fanout_window: Task = app.task(
    name=FANOUT_WINDOW_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_soft,
    time_limit=_hard,
)(_fanout_window)


def _dispatch(orders: list[dict[str, Any]]) -> None:
    """Window tasks, as one Celery group (the flow's task gathers their summaries)."""
    group(fanout_window.s(order) for order in orders).apply_async()


def _flow_task(flow: Flow) -> Task:
    name = flow.name
    fan_out = _dispatch if flow.runs.work is Work.CATALOG else None

    def run(self: Task, **params: Any) -> dict[str, Any]:
        return run_job(name, settings, _progress(self), fan_out=fan_out, **params)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"Flow {name!r} (see channel_app_template.core.run.flows.FLOWS)."
    soft, hard = time_limits(settings.flow_time_budget)
    task: Task = app.task(name=flow.task_name, bind=True, soft_time_limit=soft, time_limit=hard)(
        run
    )
    return task


# --- The tools: tasks with signatures of their own -------------------------------------------


def _ping() -> dict[str, Any]:
    """A no-op round trip: proves broker, worker and result backend work together."""
    return {"pong": True, "worker": socket.gethostname(), "at": time.time()}


def _list_parked_orders(kind: str = "orders") -> dict[str, Any]:
    """Orders (or ``item_updates``, ``cancellations``, ``cancellation_requests``) that
    failed too often and wait for an operator."""
    return parked(settings, kind, None)


def _retry_parked_orders(numbers: list[str] | None = None, kind: str = "orders") -> dict[str, Any]:
    """Give parked items (all, or these) a fresh set of attempts on the next runs."""
    return parked(settings, kind, numbers or [])


TOOLS: dict[str, Callable[..., dict[str, Any]]] = {
    "ping": _ping,
    "list_parked_orders": _list_parked_orders,
    "retry_parked_orders": _retry_parked_orders,
}


def _tool_task(flow: Flow) -> Task:
    function = TOOLS[flow.name]  # a KeyError here: a tool declared without its function
    function.__name__ = function.__qualname__ = flow.name
    task: Task = app.task(name=flow.task_name)(function)
    return task


TASKS: dict[str, Task] = {
    flow.name: _tool_task(flow) if flow.runs.work is Work.TOOL else _flow_task(flow)
    for flow in FLOWS
}
globals().update(TASKS)

if TYPE_CHECKING:
    # For the type checker: ``tasks.<flow name>`` is one of the tasks generated above.
    def __getattr__(name: str) -> Task: ...
