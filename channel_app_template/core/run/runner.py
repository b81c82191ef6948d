"""How a Celery task runs a flow: settings -> runtime -> single-flight lock -> flow.

Every flow of the registry (:mod:`channel_app_template.core.run.flows`) that is not a tool
is a :class:`Job` in :data:`JOBS`: the lock it takes and what it runs. The job builders
below are the one place that calls the engines (catalog, inbound orders and events, setup);
what every run shares, from the lock to the budget and the progress reports Flower shows,
is :func:`run_job`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.engine.resources import RESOURCES, CatalogResource, pks_for_skus
from channel_app_template.core.inbound.order_events import EventSummary, OrderEvents
from channel_app_template.core.inbound.orders import OrderIngestion, OrderOptions
from channel_app_template.core.run.fanout import Dispatch, FanOut, fans_out
from channel_app_template.core.run.fanout_run import coordinate
from channel_app_template.core.run.flows import FLOWS, ContentLock, Flow, Work
from channel_app_template.core.run.runtime import Runtime, open_runtime
from channel_app_template.core.setup import flows as setup_flows
from channel_app_template.settings import Settings

__all__ = [
    "JOBS",
    "MAX_RESEND_IDS",
    "Job",
    "JobRun",
    "ReportProgress",
    "catalog_job",
    "content_lock",
    "events_job",
    "ingest_orders",
    "job_for",
    "parked",
    "resend_failed",
    "resource_for",
    "run_job",
    "setup_job",
    "time_limits",
]

logger = logging.getLogger(__name__)

ReportProgress = Callable[[dict[str, Any]], None]
JobRun = Callable[..., dict[str, Any]]  # (runtime, report, **the task's keyword arguments)
MAX_RESEND_IDS = 10_000  # pks or skus one resend_failed call may name
SOFT_LIMIT_MARGIN = 30.0  # seconds past FLOW_TIME_BUDGET before Celery interrupts a run
HARD_LIMIT_MARGIN = 60.0  # seconds past the soft limit before Celery kills the process


def time_limits(budget: float) -> tuple[float, float]:
    """Celery's (soft, hard) time limits for a flow task: a backstop for a run stuck inside
    one call, where the budget (checked between units of work) cannot see it. The soft
    limit raises in the run, which closes its batch and frees its lock like any error; the
    hard one kills the worker child (its lock then expires, its batch is repaired later)."""
    soft = budget + max(SOFT_LIMIT_MARGIN, budget * 0.1)
    return soft, soft + HARD_LIMIT_MARGIN


@dataclass(frozen=True)
class Job:
    """One task: the lock that keeps its runs from overlapping, and what it runs.

    Jobs that open batch requests of a content type share that content type's lock
    (Omnitron allows one committed batch per content type), so, for instance, order
    ingestion and outbound order updates never run at the same time.
    """

    lock_name: str
    run: JobRun
    lock_for: Callable[[Mapping[str, Any]], str] | None = None
    """For jobs whose lock depends on their arguments (``resend_failed``)."""


def content_lock(resource_name: str) -> str:
    """The lock of every job that opens batch requests of this resource's content type."""
    return f"catalog:{RESOURCES[resource_name].model}"


def job_for(flow: Flow) -> Job:
    """The job of a registry flow (tools have none: their tasks are written out)."""
    runs = flow.runs
    lock = runs.lock
    name = content_lock(lock.resource) if isinstance(lock, ContentLock) else lock
    name = name or f"{runs.work}:{flow.name}"
    if runs.work is Work.CATALOG:
        return Job(name, catalog_job(*runs.args))
    if runs.work is Work.SETUP:
        return Job(name, setup_job(flow.name))
    if runs.work is Work.ORDERS:
        return Job(name, ingest_orders)
    if runs.work is Work.EVENTS:
        return Job(name, events_job(*runs.args))
    if runs.work is Work.RESEND:
        return Job("catalog:<content type>", resend_failed, lock_for=_resend_lock)
    raise ValueError(f"{flow.name}: the runner builds no job of kind {runs.work!r}")


# --- The engines' calls: what each kind of job runs -------------------------------------
# (The only lines here that know the engines' APIs.)


def catalog_job(resource_name: str, *kinds: str) -> JobRun:
    """The catalog engine on one resource; ``kinds`` in order: "inserts", "updates",
    "deleted" (deletions), "retry" (failed objects whose dependencies changed) or "check"."""
    resource = RESOURCES[resource_name]

    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        summaries: list[dict[str, Any]] = []
        step = [""]  # what the engine is doing now, for the progress line
        engine = runtime.engine(
            lambda done, total: report({"step": step[0], "done": done, "total": total})
        )
        for kind in kinds:
            if kind in ("check", "retry"):
                step[0] = f"{resource.name} {kind}"
                flow = engine.check if kind == "check" else engine.retry
                summaries.append(flow(resource).as_dict())
                continue
            for list_id in [None, *_extra_lists(runtime, resource)]:
                step[0] = f"{resource.name} {kind}" + (f" (list {list_id})" if list_id else "")
                fanned = None
                if runtime.fanout is not None and fans_out(resource, kind):
                    fanned = coordinate(
                        runtime,
                        runtime.fanout,
                        resource,
                        kind,
                        list_id,
                        lambda done, total: report(
                            {"step": step[0], "done": done, "total": total, "fanned_out": True}
                        ),
                    )
                summaries.append(fanned or engine.send(resource, kind, list_id).as_dict())
        return {"runs": summaries}

    return run


def _extra_lists(runtime: Runtime, resource: CatalogResource) -> list[int]:
    if resource.list_setting is None or resource.extra_lists is None:
        return []
    available = resource.extra_lists(runtime.omnitron.catalog)
    return runtime.extra_lists(resource.list_setting, list(available))


def ingest_orders(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
    """Marketplace orders into Omnitron (``fetch_orders``)."""
    identifier = runtime.channel.config.setting("CUSTOMER_IDENTIFIER_FIELD") or "email"
    options = OrderOptions.from_settings(runtime.settings, str(identifier))
    ingestion = OrderIngestion(
        runtime.omnitron, runtime.channel, runtime.ledger("orders"), options, runtime.budget
    )
    return ingestion.run().as_dict()


def events_job(method: str, ledger: str) -> JobRun:
    """One kind of marketplace order event into Omnitron: ``OrderEvents.<method>`` with its
    ``ledger`` (attempts and parked events)."""

    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        events = OrderEvents(
            runtime.omnitron,
            runtime.channel,
            runtime.ledger(ledger),
            budget=runtime.budget,
            in_flight=runtime.settings.order_in_flight,
        )
        summary: EventSummary = getattr(events, method)()
        return summary.as_dict()

    return run


def setup_job(name: str) -> JobRun:
    """The setup flow ``name`` of :mod:`channel_app_template.core.setup.flows`."""
    flow = getattr(setup_flows, name)

    def run(runtime: Runtime, report: ReportProgress) -> dict[str, Any]:
        result: dict[str, Any] = flow(runtime.omnitron, runtime.channel, budget=runtime.budget)
        return result

    return run


def resource_for(content_type: str) -> CatalogResource:
    """The resource whose objects are ``content_type`` (``product``, ``productstock``...)
    or that is named so (``products``, ``stocks``...)."""
    for resource in RESOURCES.values():
        if content_type in (resource.name, resource.objects_model) and resource.read_by_ids:
            return resource
    choices = sorted(r.objects_model for r in RESOURCES.values() if r.read_by_ids)
    raise ValueError(f"cannot re-send {content_type!r}; choose one of {', '.join(choices)}")


def _resend_lock(params: Mapping[str, Any]) -> str:
    return f"catalog:{resource_for(str(params.get('content_type', ''))).model}"


def resend_failed(
    runtime: Runtime,
    report: ReportProgress,
    content_type: str = "",
    pks: Sequence[int] | None = None,
    skus: Sequence[str] | None = None,
) -> dict[str, Any]:
    """An operator's re-send: failed objects of ``content_type`` (these pks and/or the
    objects of these skus, or all failed ones when neither is given) are sent again now,
    with fresh attempts."""
    resource = resource_for(content_type)
    for name, values in (("pks", pks), ("skus", skus)):
        if values is not None and len(values) > MAX_RESEND_IDS:
            raise ValueError(f"{name}: at most {MAX_RESEND_IDS} per call, got {len(values)}")
    wanted: list[int] | None = None
    if pks is not None or skus is not None:
        wanted = [int(pk) for pk in pks or []]
        wanted += pks_for_skus(runtime.omnitron, resource, [str(sku) for sku in skus or []])
    step = f"{resource.name} resend"

    def progress(done: int, total: int | None) -> None:
        report({"step": step, "done": done, "total": total})

    engine = runtime.engine(progress)
    return {"runs": [engine.resend(resource, wanted).as_dict()]}


# --- Running one job ------------------------------------------------------------------------

JOBS: dict[str, Job] = {f.name: job_for(f) for f in FLOWS if f.runs.work is not Work.TOOL}


def run_job(
    name: str,
    settings: Settings,
    report: ReportProgress,
    *,
    fan_out: Dispatch | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Run job ``name`` unless another run of it holds its lock; a JSON-able summary.

    With ``fan_out``, a catalog send of at least ``FANOUT_MIN_OBJECTS`` objects is split
    into window tasks sent through it (:mod:`.fanout`), under this run's lock.

    The run gets a :class:`Budget` (``FLOW_TIME_BUDGET``, ``FLOW_STALL_TIMEOUT``); a run
    past it, or stopped by Celery's soft time limit, has closed what it opened on its way
    out, frees its lock here and says why in a log line and its summary.
    """
    job = JOBS[name]
    lock = job.lock_for(params) if job.lock_for else job.lock_name
    started = time.monotonic()
    with open_runtime(settings) as runtime, runtime.locks.lease(lock) as token:
        if token is None:
            return {"task": name, "skipped": "another run of this flow is in progress"}
        if fan_out is not None:
            runtime.fanout = FanOut(
                fan_out, lock, token, settings.fanout_min_objects, settings.fanout_window
            )
        runtime.budget = Budget(settings.flow_time_budget, settings.flow_stall_timeout)
        try:
            result = job.run(runtime, lambda meta: report({"task": name, **meta}), **params)
        except (BudgetExceeded, SoftTimeLimitExceeded) as error:
            why = (
                error.message
                if isinstance(error, BudgetExceeded)
                else "Celery's soft time limit (FLOW_TIME_BUDGET plus a margin) was reached"
            )
            seconds = round(time.monotonic() - started, 2)
            logger.warning(
                "%s stopped after %.1fs: %s; its lock is freed",
                name,
                seconds,
                why,
                extra={"flow": name, "seconds": seconds},
            )
            return {"task": name, "seconds": seconds, "stopped": why}
        stopped = [run.get("stopped") for run in result.get("runs", []) if run.get("stopped")]
        seconds = round(time.monotonic() - started, 2)
        if stopped:
            logger.warning(
                "%s stopped after %.1fs: %s; its lock is freed",
                name,
                seconds,
                stopped[0],
                extra={"flow": name, "seconds": seconds},
            )
        return {"task": name, "seconds": seconds, **result}


def parked(settings: Settings, kind: str, retry: Sequence[str] | None) -> dict[str, Any]:
    """List parked items of ``kind``; with ``retry``, give them (or all, if empty) new tries."""
    with open_runtime(settings) as runtime:
        ledger = runtime.ledger(kind)
        if retry is None:
            return {"kind": kind, "parked": ledger.parked()}
        return {"kind": kind, "unparked": ledger.unpark(list(retry) or None)}
