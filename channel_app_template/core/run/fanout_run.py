"""Running a fanned-out send (see :mod:`.fanout`): the coordinator, which is the flow's own
task, and the task of one window."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import redis

from channel_app_template.core.budget import Budget
from channel_app_template.core.engine.resources import RESOURCES, CatalogResource
from channel_app_template.core.run.fanout import (
    FanOut,
    RunState,
    WindowOrder,
    boundaries,
    merge_summaries,
    window_size,
    windows_of,
)
from channel_app_template.core.run.runtime import Runtime, open_runtime
from channel_app_template.settings import Settings

__all__ = ["POLL", "coordinate", "run_window", "send_window"]

logger = logging.getLogger("channel_app_template.flows")

POLL = 0.5  # seconds between the coordinator's looks at windows other workers are sending
Report = Callable[[int, int], None]  # (objects done in the whole run, total)


def state_ttl(settings: Settings) -> float:
    """How long a run's state outlives its start: longer than any run may take."""
    return 2 * settings.flow_time_budget + 3600


def send_window(runtime: Runtime, order: WindowOrder, state: RunState, report: Report) -> bool:
    """Claim ``order``'s window and send it, unless it is done or another worker holds it;
    whether this call sent it. The claim is a lease: a killed holder frees it."""
    if state.is_done(order.index):
        return False
    with runtime.locks.lease(order.claim) as claim:
        if claim is None or state.is_done(order.index):
            return False
        last = [0]

        def progress(done: int, total: int | None) -> None:
            state.add_progress(done - last[0])
            last[0] = done
            report(state.progress(), order.total)

        engine = runtime.shared_engine(progress)
        resource = RESOURCES[order.resource]
        summary = engine.send(resource, order.kind, order.list_id, window=order.window)
        state.finish(order.index, summary.as_dict())
        return True


def coordinate(
    runtime: Runtime,
    fan: FanOut,
    resource: CatalogResource,
    kind: str,
    list_id: int | None,
    report: Report,
) -> dict[str, Any] | None:
    """Fan the ``kind`` send of ``resource`` out when it is big enough, and see it through;
    its merged summary, or None when it is too small (the caller sends it itself)."""
    pending = resource.read_pending(runtime.omnitron, kind, 1, list_id)
    total = pending.count()
    if total < fan.min_objects:
        return None
    windows = windows_of(boundaries(pending, total, window_size(total, fan.window)))
    if len(windows) < 2:
        return None
    run = uuid.uuid4().hex
    orders = [
        WindowOrder(
            run, fan.lock, fan.token, resource.name, kind, list_id, w.index, w.after, w.upto, total
        )
        for w in windows
    ]
    state = RunState(runtime.cache, run, state_ttl(runtime.settings))
    logger.info(
        "%s %s: %d objects fanned out in %d windows",
        resource.name,
        kind,
        total,
        len(orders),
        extra={"flow": resource.name, "objects": total, "windows": len(orders)},
    )
    fan.dispatch([order.as_dict() for order in orders])

    def claimed() -> bool:
        return any(
            runtime.locks.is_held(order.claim) for order in orders if not state.is_done(order.index)
        )

    with _closing(state, claimed, runtime.settings.flow_stall_timeout):
        seen = -1
        while state.windows_done() < len(orders):
            runtime.budget.check()
            # From the last window back: the window tasks start from the first.
            sent = any(send_window(runtime, o, state, report) for o in reversed(orders))
            done = state.progress()
            if done != seen:
                runtime.budget.progressed()
                seen = done
            report(done, total)
            if not sent:
                time.sleep(POLL)
    label = kind if list_id is None else f"{kind}:{list_id}"
    return merge_summaries(resource.name, label, state.summaries())


@contextlib.contextmanager
def _closing(state: RunState, claimed: Callable[[], bool], wait: float) -> Iterator[None]:
    """On every way out of the coordinator: no window starts any more, and the windows
    already claimed are waited for (at most ``wait`` s), so the flow's lock, freed after
    this, is not freed under them."""
    try:
        yield
    finally:
        state.stop()
        deadline = time.monotonic() + wait
        while claimed() and time.monotonic() < deadline:
            time.sleep(POLL)


def run_window(
    settings: Settings, data: dict[str, Any], report: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """One window task: send the window unless its run is over, or it is done or claimed."""
    order = WindowOrder.from_dict(data)
    ttl = state_ttl(settings)
    summary: dict[str, Any] = {"window": order.index, "run": order.run}
    with contextlib.closing(redis.Redis.from_url(settings.cache_dsn)) as client:
        state = RunState(client, order.run, ttl)
        if state.stopped() or state.is_done(order.index):  # cheap: no runtime for nothing
            return {**summary, "skipped": "done, or its run is over"}
    with open_runtime(settings) as runtime, runtime.locks.keep(order.lock, order.token) as alive:
        state = RunState(runtime.cache, order.run, ttl)
        if not alive or state.stopped():
            return {**summary, "skipped": "its run is over"}
        runtime.budget = Budget(settings.flow_time_budget, settings.flow_stall_timeout)

        def progress(done: int, total: int) -> None:
            report({"step": f"{order.resource} {order.kind}", "done": done, "total": total})

        sent = send_window(runtime, order, state, progress)
    return {**summary, "sent": sent}
