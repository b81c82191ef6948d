"""The catalog flow engine: one implementation for every catalog resource.

A send run repeats, until nothing is pending: read a page of pending objects (committed
objects leave the pending views, so the same page number holds the next ones; a page of
objects this run cannot send is stepped over), open a batch request and commit the page
to it, turn the objects into channel items, call the channel command, then either settle
the batch now (synchronous channels) or record the channel's job id and leave the batch to
the check run.

Guarantees, each with a test: every batch that is opened is closed, on exceptions too;
the ``version_date`` recorded is the ``modified_date`` read at fetch time, so a change
made while a batch is in flight is sent by a later run; an object is recorded as sent
only when the channel returned a success row for its matching key; one bad object gets
an error report and never stops the others; an empty run opens no batch.

Bad rows are bad objects, not bad runs: a row Omnitron sent that does not fit its model is
committed as failed (error action, error report) so the pending view stops returning it;
a ``modified_date`` the engine must not record (unparseable, missing, in the future) is
reported once and left out of every batch until it is sane. Failed objects are re-sent
when what they depend on changes, with attempts and backoff (:mod:`.failure_book`), and
on an operator's request (:meth:`CatalogEngine.resend`). Each run works inside a
:class:`~.budget.Budget`: past it, the run stops between batches and says why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from channel_app_template.akinon.dates import date_problem, parse_date
from channel_app_template.akinon.integration import OPEN_REMOTE, OmnitronIntegration, Tracked
from channel_app_template.akinon.models import (
    BatchRequest,
    BatchRequestObject,
    BatchRequestStatus,
    IntegrationActionStatus,
)
from channel_app_template.akinon.pagination import Page
from channel_app_template.channel import (
    BatchRequestResponseDto,
    ChannelIntegration,
    FailedReasonType,
    OrderBatchRequestResponseDto,
    ResponseStatus,
    ResultDto,
    Submitted,
)
from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.journal import BatchJournal
from channel_app_template.core.engine.resources import (
    CatalogResource,
    Cover,
    Failure,
    PrepareContext,
    Prepared,
)
from channel_app_template.errors import ChannelAppError, ConfigurationError, ItemError, RetryLater

__all__ = ["CatalogEngine", "EngineOptions", "FlowSummary", "Progress", "row_key"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
MAX_PAGE_WALK = 10_000  # pages stepped over in one run (only ever unsendable ones)


@dataclass
class FlowSummary:
    """What one run did; returned by the task, so Flower shows it."""

    flow: str
    kind: str
    batches: list[int] = field(default_factory=list)
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    submitted: int = 0
    still_running: int = 0
    timed_out: int = 0
    unreadable: int = 0  # rows that do not fit their model (failed, or skipped without pk)
    bad_dates: int = 0  # objects not sent: a modified_date that cannot be recorded
    waiting: int = 0  # failed objects whose next attempt is not due yet
    parked: int = 0  # failed objects out of automatic attempts
    resent: int = 0  # failed objects sent again
    skipped: str | None = None
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v not in (None, [], 0) or k in ("flow", "kind")
        }

    def counts(self) -> dict[str, Any]:
        """The counters for a structured log line."""
        return {k: v for k, v in self.as_dict().items() if isinstance(v, int)}


@dataclass
class EngineOptions:
    match_path: str = "sku"
    batch_size: int = 500
    stale_after: float = 6 * 3600.0
    date_tolerance: float = 600.0  # seconds a modified_date may be ahead of our clock
    retry_scan: int = 2000  # failed objects looked at per run for automatic re-sends
    forget_on_delete: tuple[str, ...] = (  # mappings dropped when a product is deleted
        "product",
        "productstock",
        "productprice",
        "productimage",
    )


@dataclass
class _Run:
    """One pass over a list of candidates: what it has already looked at."""

    resource: CatalogResource
    summary: FlowSummary
    list_id: int | None = None
    source: str = ""  # the Omnitron list the run reads its candidates from, for messages
    seen: set[str] = field(default_factory=set)
    done: int = 0
    total: int | None = None

    def first_time(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class CatalogEngine:
    """Runs catalog flows between one Omnitron channel and one channel integration."""

    def __init__(
        self,
        omnitron: OmnitronIntegration,
        channel: ChannelIntegration,
        journal: BatchJournal,
        options: EngineOptions,
        progress: Progress | None = None,
        *,
        book: FailureBook | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.omnitron = omnitron
        self.channel = channel
        self.journal = journal
        self.options = options
        self.progress = progress or (lambda done, total: None)
        self.book = book
        self.budget = budget or Budget.unlimited()

    # --- Send --------------------------------------------------------------------------

    def send(self, resource: CatalogResource, kind: str, list_id: int | None = None) -> FlowSummary:
        """Send what Omnitron's ``kind`` view (inserts, updates, deleted) holds."""
        command = resource.command(kind)
        summary = FlowSummary(
            flow=resource.name, kind=kind if list_id is None else f"{kind}:{list_id}"
        )
        if not self.channel.supports(command):
            summary.skipped = f"the channel does not support {command}"
            return summary
        run = _Run(resource, summary, list_id)
        with self._bounded(run):
            self.repair(resource)
            limit = self._limit()
            pending = resource.read_pending(self.omnitron, kind, limit, list_id)
            run.source = pending.source
            number = 1
            while number <= MAX_PAGE_WALK:
                self.budget.check()
                page = pending.read_page(number)
                objects, rejects = self._screen(run, command, page)
                if objects or rejects:
                    if run.total is None:
                        run.total = pending.count() if page.size >= limit else page.size
                    self._deliver(run, kind, command, objects, rejects)
                elif page.size >= limit:
                    number += 1  # a full page this run cannot send: look past it
                else:
                    break
        return self._finish(run)

    def retry(self, resource: CatalogResource) -> FlowSummary:
        """Re-send failed objects whose dependencies changed since they failed (a product
        refused for its price, once the price changed), within their attempts."""
        summary = FlowSummary(flow=resource.name, kind="retry")
        changed = resource.changed_since_failure
        if changed is None or resource.read_by_ids is None or self.book is None:
            summary.skipped = "nothing to re-send automatically for this resource"
            return summary
        if not self.channel.supports(resource.command("updates")):
            summary.skipped = f"the channel does not support {resource.command('updates')}"
            return summary
        run = _Run(resource, summary)
        model = resource.objects_model
        with self._bounded(run):
            self.repair(resource)
            limit = self._limit()
            failed = self.omnitron.failed_actions(model, limit)
            looked = 0
            number = self.book.cursor(model)
            while looked < self.options.retry_scan:
                self.budget.check()
                page = failed.read_page(number)
                if not page.size:
                    number = 1
                    break
                looked += page.size
                fresh = [a for a in page.items if run.first_time(f"pk:{a.object_id}")]
                pks = changed(self.omnitron, fresh) if fresh else []
                due, waiting, parked = self.book.split(model, pks)
                summary.waiting += len(waiting)
                summary.parked += len(parked)
                if due:
                    self.book.attempted(model, due)
                    self._resend(run, due, {a.object_id: a for a in fresh})
                else:
                    number += 1  # nothing here was sent, so nothing here moved
                if page.size < limit:
                    number = 1
                    break
            self.book.set_cursor(model, number)
        return self._finish(run)

    def resend(self, resource: CatalogResource, pks: Sequence[int] | None) -> FlowSummary:
        """An operator's re-send: failed objects of ``resource`` (these pks, or every
        failed one when ``None``), sent now whatever their attempts, which start again."""
        summary = FlowSummary(flow=resource.name, kind="resend")
        if resource.read_by_ids is None:
            summary.skipped = f"{resource.name} objects cannot be re-sent on demand"
            return summary
        run = _Run(resource, summary)
        model = resource.objects_model
        with self._bounded(run):
            self.repair(resource)
            limit = self._limit()
            if pks is not None:
                wanted = set(pks)
                actions = self.omnitron.actions_of(model, wanted)
                failed = {
                    pk: a
                    for pk, a in actions.items()
                    if a.status == IntegrationActionStatus.ERROR and pk in wanted
                }
                ignored = len(set(pks)) - len(failed)
                if ignored:
                    logger.info(
                        "%s resend: %d of the objects asked for have not failed; left alone",
                        resource.name,
                        ignored,
                        extra={"flow": resource.name, "ignored": ignored},
                    )
                for start in range(0, len(failed), limit):
                    self.budget.check()
                    part = list(failed)[start : start + limit]
                    if self.book is not None:
                        self.book.forget(model, part)
                    self._resend(run, part, failed)
                return self._finish(run)
            query = self.omnitron.failed_actions(model, limit)
            number = 1
            while number <= MAX_PAGE_WALK:
                self.budget.check()
                page = query.read_page(number)
                fresh = {
                    a.object_id: a
                    for a in page.items
                    if a.object_id is not None and run.first_time(f"pk:{a.object_id}")
                }
                if fresh:
                    if self.book is not None:
                        self.book.forget(model, list(fresh))
                    self._resend(run, list(fresh), fresh)
                elif page.size >= limit:
                    number += 1
                else:
                    break
        return self._finish(run)

    def _resend(self, run: _Run, pks: Sequence[int], actions: dict[Any, Any]) -> None:
        """Read ``pks`` afresh and send them: as updates when the channel has them (their
        mapping holds a remote id), as inserts otherwise."""
        resource = run.resource
        assert resource.read_by_ids is not None
        page: Page[Any] = Page(items=list(resource.read_by_ids(self.omnitron, pks)))
        for kind in ("inserts", "updates"):
            wanted = [
                obj
                for obj in page.items
                if bool(getattr(actions.get(int(obj.pk)), "remote_id", None)) == (kind == "updates")
            ]
            command = resource.command(kind)
            if not wanted or not self.channel.supports(command):
                continue
            objects, rejects = self._screen(run, command, Page(items=wanted), seen=False)
            if objects or rejects:
                run.summary.resent += len(objects)
                self._deliver(run, kind, command, objects, rejects)

    def _deliver(
        self,
        run: _Run,
        kind: str,
        command: str,
        objects: Sequence[Any],
        rejects: Sequence[Failure],
    ) -> None:
        """One batch; the run's progress is reported and the budget told after it."""
        self._send_batch(run.resource, kind, run.list_id, command, objects, run.summary, rejects)
        run.done += len(objects) + len(rejects)
        self.budget.progressed()
        self.progress(run.done, max(run.total or 0, run.done))

    def _screen(
        self, run: _Run, command: str, page: Page[Any], *, seen: bool = True
    ) -> tuple[list[Any], list[Failure]]:
        """The objects of ``page`` to send, and the rows to commit as failed; objects
        already handled in this run, with a date that cannot be recorded or whose next
        attempt is not due are left out."""
        resource, summary = run.resource, run.summary
        model = resource.objects_model
        now = dt.datetime.now(dt.UTC)
        objects: list[Any] = []
        rejects: list[Failure] = []
        for obj in page.items:
            pk = int(obj.pk)
            if seen and not run.first_time(f"pk:{pk}"):
                continue
            problem = date_problem(
                obj.modified_date, now=now, tolerance=self.options.date_tolerance
            )
            if problem:
                self._bad_date(run, command, pk, obj.modified_date, problem)
                continue
            objects.append(obj)
        for row in page.unreadable:
            key = f"pk:{row.pk}" if row.pk is not None else f"row:{row.fingerprint}"
            if not run.first_time(key):
                continue
            summary.unreadable += 1
            if row.pk is None:
                logger.warning(
                    "%s; without a readable pk it cannot be failed in Omnitron: skipped",
                    row.describe(),
                    extra={"flow": resource.name, "model": model},
                )
                continue
            problem = date_problem(
                row.modified_date, now=now, tolerance=self.options.date_tolerance
            )
            if problem:
                self._bad_date(run, command, row.pk, row.modified_date, problem, row.describe())
                continue
            tracked = Tracked(row.pk, model, row.modified_date)
            rejects.append(Failure(tracked, FailedReasonType.CHANNEL_APP, row.describe()))
        if resource.view_keeps_failures and self.book is not None and objects:
            due, waiting, parked = self.book.split(model, [int(o.pk) for o in objects])
            summary.waiting += len(waiting)
            summary.parked += len(parked)
            keep = set(due)
            objects = [o for o in objects if int(o.pk) in keep]
            self.book.attempted(model, due)
        return objects, rejects

    def _bad_date(
        self,
        run: _Run,
        command: str,
        pk: int,
        value: str | None,
        problem: str,
        unreadable: str = "",
    ) -> None:
        """Not sent, not recorded: one error report per date value, then quiet."""
        run.summary.bad_dates += 1
        model = run.resource.objects_model
        state = f"date:{value!r}"
        if self.book is not None and not self.book.first_report(model, pk, state):
            return
        why = f"not sent: {problem}" + (f"; also, {unreadable}" if unreadable else "")
        logger.warning(
            "%s %s %s%s: %s",
            run.resource.name,
            model,
            pk,
            f" (read from Omnitron {run.source})" if run.source else "",
            why,
            extra={"flow": run.resource.name, "model": model, "object_pk": pk},
        )
        with contextlib.suppress(ChannelAppError):
            self.omnitron.report(
                model,
                pk,
                code=f"Omnitron-{_title(command)}-{pk}"[:255],
                description=f"{FailedReasonType.CHANNEL_APP.value}: {why}",
            )

    def _limit(self) -> int:
        return min(self.options.batch_size, type(self.channel).max_batch_size)

    @contextlib.contextmanager
    def _bounded(self, run: _Run) -> Iterator[None]:
        """A run past its budget, or told to wait by the channel, stops between batches
        with its reason in the summary (the batch in flight was closed by its own
        handler)."""
        try:
            yield
        except BudgetExceeded as error:
            run.summary.stopped = error.message
        except RetryLater as error:
            run.summary.stopped = f"the channel asked to retry later: {error.message}"

    def _finish(self, run: _Run) -> FlowSummary:
        summary = run.summary
        fields = {"flow": summary.flow, "kind": summary.kind, **summary.counts()}
        if summary.stopped:
            logger.warning(
                "%s %s stopped: %s", summary.flow, summary.kind, summary.stopped, extra=fields
            )
        elif summary.batches or summary.unreadable or summary.bad_dates or summary.waiting:
            logger.info(
                "%s %s: %d sent in %d batches, %d failed",
                summary.flow,
                summary.kind,
                summary.sent,
                len(summary.batches),
                summary.failed,
                extra=fields,
            )
        return summary

    def _send_batch(
        self,
        resource: CatalogResource,
        kind: str,
        list_id: int | None,
        command: str,
        objects: Sequence[Any],
        summary: FlowSummary,
        rejects: Sequence[Failure] = (),
    ) -> None:
        tracked = [Tracked(int(o.pk), resource.objects_model, o.modified_date) for o in objects]
        tracked += [reject.tracked for reject in rejects]
        batch = self.omnitron.open_batch()
        pk = int(batch.pk or 0)
        summary.batches.append(pk)
        try:
            self.omnitron.commit(batch, resource.model, tracked)
            context = PrepareContext(
                self.omnitron, self.options.match_path, kind, list_id, self.channel.config
            )
            prepared = resource.prepare(context, objects) if objects else Prepared()
            prepared.failures.extend(rejects)
            result = self._call(resource, command, prepared)
            if isinstance(result, Submitted):
                # Everything the batch carried is settled (and reported) by the check run:
                # what the job returns, what the channel refused before sending, and what
                # could not be sent at all.
                rejected = [(row_key(row, resource), row) for row in result.rejected]
                self.journal.save(pk, prepared.covers, rejected, prepared.failures)
                self.omnitron.submitted(batch, result.remote_batch_id)
                summary.sent += len(prepared.items)
                summary.submitted += len(tracked)
                logger.info(
                    "%s: batch %s submitted as job %s",
                    command,
                    pk,
                    result.remote_batch_id,
                    extra={"flow": resource.name, "batch": pk, "objects": len(tracked)},
                )
                return
            summary.sent += len(prepared.items)
            self._settle(
                resource, batch, command, prepared.covers, result, prepared.failures, summary
            )
        except BaseException:
            self._abort(batch)
            raise

    def _call(
        self, resource: CatalogResource, command: str, prepared: Prepared
    ) -> list[ResultDto] | Submitted:
        if not prepared.items:
            return []
        started = time.monotonic()
        method = getattr(self.channel, command)
        try:
            result = (
                resource.call(self.channel, prepared.items)
                if resource.call
                else method(prepared.items)
            )
        except (RetryLater, ConfigurationError):
            raise
        except ItemError as error:
            # The channel refused the whole request: every item fails with its message.
            reason = FailedReasonType.REMOTE
            return [_failed_row(key, reason, error.message) for key in prepared.covers]
        seconds = time.monotonic() - started
        logger.info(
            "%s: %d items in %.2fs",
            command,
            len(prepared.items),
            seconds,
            extra={"flow": resource.name, "items": len(prepared.items), "seconds": seconds},
        )
        if not isinstance(result, Submitted | list):
            raise ChannelAppError(
                f"{command} returned {type(result).__name__}, "
                "expected a list of result rows or Submitted"
            )
        return result

    # --- Check ---------------------------------------------------------------------------

    def check(self, resource: CatalogResource) -> FlowSummary:
        summary = FlowSummary(flow=resource.name, kind="check")
        if not self.channel.supports(resource.check):
            summary.skipped = f"the channel does not support {resource.check}"
            return summary
        run = _Run(resource, summary)
        with self._bounded(run):
            self.repair(resource)
            open_batches = self.omnitron.batches(OPEN_REMOTE, resource.model)
            for index, batch in enumerate(open_batches, start=1):
                self.budget.check()
                self._check_batch(resource, batch, summary)
                self.budget.progressed()
                self.progress(index, len(open_batches))
        return self._finish(run)

    def _check_batch(
        self, resource: CatalogResource, batch: BatchRequest, summary: FlowSummary
    ) -> None:
        pk = int(batch.pk or 0)
        journal = self.journal.load(pk)
        if journal is None:
            logger.warning(
                "batch %s: its journal is gone; failing it so its objects are sent again",
                pk,
                extra={"flow": resource.name, "batch": pk},
            )
            self._abort(batch)
            summary.failed += 1
            return
        if self._is_stale(batch):
            failures = journal.failures + [
                Failure(t, FailedReasonType.REMOTE, "the channel did not finish the job in time")
                for cover in journal.covers.values()
                for t in cover.tracked
            ]
            self._report(batch, resource.check, failures)
            self.omnitron.abort(batch, [f.tracked.outcome(failed=f.reason) for f in failures])
            self.journal.drop(pk)
            summary.timed_out += 1
            summary.batches.append(pk)
            return
        rows = getattr(self.channel, resource.check)(batch.remote_batch_id or "")
        if rows is None:
            self.omnitron.still_running(batch)
            summary.still_running += 1
            return
        summary.batches.append(pk)
        self._settle(
            resource,
            batch,
            resource.check,
            journal.covers,
            [*rows, *journal.rejected],
            journal.failures,
            summary,
        )
        self.journal.drop(pk)

    # --- Settling --------------------------------------------------------------------------

    def _settle(
        self,
        resource: CatalogResource,
        batch: BatchRequest,
        command: str,
        covers: dict[str, Cover],
        rows: Sequence[ResultDto],
        failures: list[Failure],
        summary: FlowSummary,
    ) -> None:
        by_key: dict[str, ResultDto] = {}
        forget_delete = resource.model == "integrationaction"
        for received in rows:
            by_key.setdefault(row_key(received, resource), received)
        outcomes: list[BatchRequestObject] = []
        failures = list(failures)
        confirmed: list[str] = []
        for key, cover in covers.items():
            row: ResultDto | None = by_key.pop(key, None)
            remote_id = (row.remote_id if row else "") or cover.remote_id
            if row is None:
                failures += [
                    Failure(
                        t,
                        FailedReasonType.CHANNEL_APP,
                        f"the channel returned no result for {key!r}",
                    )
                    for t in cover.tracked
                ]
            elif row.status != ResponseStatus.SUCCESS:
                failures += [
                    Failure(t, row.failed_reason_type, row.message or "refused by the channel")
                    for t in cover.tracked
                ]
            elif forget_delete:
                confirmed.append(key)
                outcomes += [t.outcome() for t in cover.tracked]
            elif not remote_id:
                failures += [
                    Failure(
                        t,
                        FailedReasonType.CHANNEL_APP,
                        "the channel reported success without a remote id",
                    )
                    for t in cover.tracked
                ]
            else:
                outcomes += [t.outcome(remote_id=remote_id) for t in cover.tracked]
        if by_key:
            logger.warning(
                "%s: ignored %d result rows that match no object sent",
                command,
                len(by_key),
                extra={"flow": resource.name, "batch": batch.pk, "ignored": len(by_key)},
            )
        if confirmed:
            self._forget_deleted(confirmed)
        succeeded = [o.pk for o in outcomes]
        outcomes += [f.tracked.outcome(failed=f.reason) for f in failures]
        self.omnitron.finish(batch, outcomes)
        summary.succeeded += len(succeeded)
        summary.failed += len(failures)
        logger.info(
            "%s: batch %s done, %d succeeded, %d failed",
            command,
            batch.pk,
            len(succeeded),
            len(failures),
            extra={
                "flow": resource.name,
                "batch": batch.pk,
                "succeeded": len(succeeded),
                "failed": len(failures),
            },
        )
        if self.book is not None and succeeded:
            with contextlib.suppress(redis.RedisError):  # a stale entry only delays a retry
                self.book.succeeded(resource.objects_model, succeeded)
        self._report(batch, command, failures)

    def _forget_deleted(self, remote_ids: list[str]) -> None:
        for model in self.options.forget_on_delete:
            self.omnitron.forget(self.omnitron.actions_by_remote_id(model, remote_ids))

    # --- Housekeeping ------------------------------------------------------------------

    def repair(self, resource: CatalogResource) -> int:
        """Fail batches a crashed run left committed (we hold this flow's lock, so no live
        run owns them): their objects become pending again instead of locked forever."""
        repaired = 0
        for batch in self.omnitron.batches([BatchRequestStatus.COMMIT], resource.model):
            logger.warning(
                "batch %s of %s was left committed by an interrupted run; failing it",
                batch.pk,
                resource.model,
                extra={"flow": resource.name, "batch": batch.pk},
            )
            self._abort(batch)
            repaired += 1
        return repaired

    def _is_stale(self, batch: BatchRequest) -> bool:
        opened = parse_date(batch.created_date)
        if opened is None:
            return False
        age = (dt.datetime.now(dt.UTC) - opened).total_seconds()
        return age > self.options.stale_after

    def _abort(self, batch: BatchRequest) -> None:
        try:
            self.omnitron.abort(batch)
        except Exception:  # the original error matters more; a stale batch is repaired later
            logger.exception("could not fail batch %s", batch.pk, extra={"batch": batch.pk})

    def _report(self, batch: BatchRequest, command: str, failures: Sequence[Failure]) -> None:
        name = _title(command)
        for failure in failures:
            tracked = failure.tracked
            code = f"{batch.local_batch_id}-Channel-{name}-{tracked.pk}"
            with contextlib.suppress(ChannelAppError):
                self.omnitron.report(
                    tracked.model,
                    tracked.pk,
                    code=code,
                    description=f"{failure.reason.value}: {failure.message}",
                    modified_date=tracked.version_date,
                )


def row_key(row: ResultDto, resource: CatalogResource) -> str:
    """What a result row is matched on: the remote id for deletions (the product is gone
    from Omnitron), the order number for orders, the sku otherwise."""
    if resource.model == "integrationaction":
        return row.remote_id
    if isinstance(row, OrderBatchRequestResponseDto):
        return row.number
    return row.sku


def _failed_row(key: str, reason: FailedReasonType, message: str) -> ResultDto:
    return BatchRequestResponseDto(
        status=ResponseStatus.FAIL,
        sku=key,
        remote_id=key,
        message=message,
        failed_reason_type=reason,
    )


def _title(command: str) -> str:
    """``send_inserted_products`` -> ``SendInsertedProducts`` (error report codes)."""
    return "".join(part.title() for part in command.split("_"))
