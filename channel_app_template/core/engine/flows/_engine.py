"""The catalog engine's runs: send, retry, resend and check, for any catalog resource.

A send run reads its pending view by pk (:mod:`._cursor`: ``sort=id``, ``pk__gt`` the last
pk read, so the pages do not shift as committed objects leave the view), screens each page
(:mod:`._screen`), prepares it, and sends it as one batch (:mod:`._pipeline`); the next page
is read, screened and prepared while the current batch is committed, sent and settled.
The check run settles batches whose channel job is done (:mod:`._settle`). Failed objects
are re-sent when what they depend on changes, with attempts and backoff
(:mod:`..failure_book`), and on an operator's request (:meth:`CatalogEngine.resend`). Each
run works inside a :class:`~.budget.Budget`: past it, the run stops between batches and
says why. An empty run opens no batch.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

from channel_app_template.akinon.integration import OPEN_REMOTE, OmnitronIntegration
from channel_app_template.akinon.models import IntegrationActionStatus
from channel_app_template.akinon.pagination import Page
from channel_app_template.channel import ChannelIntegration
from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.flows._batches import Batches
from channel_app_template.core.engine.flows._cursor import PkCursor, PkWindow
from channel_app_template.core.engine.flows._gate import CommitGate, local_gate
from channel_app_template.core.engine.flows._pipeline import Pipeline
from channel_app_template.core.engine.flows._screen import Screen
from channel_app_template.core.engine.flows._settle import Settler
from channel_app_template.core.engine.flows._summary import (
    MAX_PAGE_WALK,
    EngineOptions,
    FlowSummary,
    Progress,
    Run,
    Wiring,
)
from channel_app_template.core.engine.journal import BatchJournal
from channel_app_template.core.engine.resources import (
    RESOURCES,
    CatalogResource,
    Failure,
    Prepared,
)
from channel_app_template.errors import RetryLater

logger = logging.getLogger(__name__)

SETTLING = 4  # batches a check run settles at once while it asks the channel about the next


@dataclass(frozen=True)
class Ahead:
    """A page read, screened and prepared ahead of its batch."""

    objects: list[Any]
    rejects: list[Failure]
    prepared: Prepared


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
        commit_gate: CommitGate | None = None,
    ) -> None:
        self.omnitron = omnitron
        self.channel = channel
        self.journal = journal
        self.options = options
        self.progress = progress or (lambda done, total: None)
        self.book = book
        self.budget = budget or Budget.unlimited()
        wiring = Wiring(omnitron, channel, journal, options, book)
        self._batches = Batches(wiring)
        self._screen = Screen(wiring)
        self._settler = Settler(wiring, self._batches)
        self._gate = commit_gate or local_gate
        self._pipeline = Pipeline(wiring, self._batches, self._settler, self._gate)

    # --- Send --------------------------------------------------------------------------

    def send(
        self,
        resource: CatalogResource,
        kind: str,
        list_id: int | None = None,
        *,
        window: PkWindow | None = None,
    ) -> FlowSummary:
        """Send what Omnitron's ``kind`` view (inserts, updates, deleted) holds, or the
        part of it in ``window`` (fan-out: each worker sends its own pks)."""
        command = resource.command(kind)
        summary = FlowSummary(
            flow=resource.name, kind=kind if list_id is None else f"{kind}:{list_id}"
        )
        if not self.channel.supports(command):
            summary.skipped = f"the channel does not support {command}"
            return summary
        run = Run(resource, summary, list_id)
        with self._stopping(run):
            limit = self._open(run)
            pending = resource.read_pending(self.omnitron, kind, limit, list_id)
            run.source = pending.source
            cursor = PkCursor(pending, limit, window)
            ahead = self.omnitron.read_ahead()
            self.budget.check()
            next_up = ahead.submit(self._read_ahead, run, kind, command, cursor)
            try:
                while True:
                    step = next_up.result()
                    if step is None:
                        break
                    self.budget.check()
                    # the page after this one is read, screened and prepared while it is sent
                    next_up = ahead.submit(self._read_ahead, run, kind, command, cursor)
                    self._deliver(run, kind, command, step.objects, step.rejects, step.prepared)
            finally:
                wait([next_up])  # a page read ahead of a stopped run is dropped, not left running
                cursor.close()
        return self._finish(run)

    def _read_ahead(self, run: Run, kind: str, command: str, cursor: PkCursor) -> Ahead | None:
        """The next page that has something to send, screened and prepared; ``None`` at
        the end of the view."""
        while (page := cursor.next_page()) is not None:
            beyond = cursor.query()  # what is left past this page, before the cursor moves on
            cursor.prefetch(self.omnitron.executor())  # the page after, while this one is made
            objects, rejects = self._screen.screen(run, command, page)
            if objects or rejects:
                if run.total is None:  # what is left past this page, and this page
                    full = page.size >= self._limit()
                    run.total = beyond.count() + page.size if full else page.size
                prepared = self._pipeline.prepare(run, kind, objects, rejects)
                return Ahead(objects, rejects, prepared)
        return None

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
        run = Run(resource, summary)
        model = resource.objects_model
        with self._stopping(run):
            limit = self._open(run)
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
        run = Run(resource, summary)
        model = resource.objects_model
        with self._stopping(run):
            limit = self._open(run)
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

    def _resend(self, run: Run, pks: Sequence[int], actions: dict[Any, Any]) -> None:
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
            objects, rejects = self._screen.screen(run, command, Page(items=wanted), seen=False)
            if objects or rejects:
                run.summary.resent += len(objects)
                self._deliver(run, kind, command, objects, rejects)

    def _deliver(
        self,
        run: Run,
        kind: str,
        command: str,
        objects: Sequence[Any],
        rejects: Sequence[Failure],
        prepared: Prepared | None = None,
    ) -> None:
        """One batch; the run's progress is reported and the budget told after it."""
        self._pipeline.send_batch(run, kind, command, objects, rejects, prepared)
        run.done += len(objects) + len(rejects)
        self.budget.progressed()
        self.progress(run.done, max(run.total or 0, run.done))

    def _limit(self) -> int:
        return min(self.options.batch_size, type(self.channel).max_batch_size)

    def _open(self, run: Run) -> int:
        """Repair what an earlier run left committed, then hand out the batch size."""
        self.repair(run.resource)
        return self._limit()

    @contextlib.contextmanager
    def _stopping(self, run: Run) -> Iterator[None]:
        """A run past its budget, or told to wait by the channel, stops between batches
        (or in its opening repair) with its reason in the summary; the batch in flight was
        closed by its own handler."""
        try:
            yield
        except BudgetExceeded as error:
            run.summary.stopped = error.message
        except RetryLater as error:
            run.summary.stopped = f"the channel asked to retry later: {error.message}"

    def _finish(self, run: Run) -> FlowSummary:
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

    # --- Check ---------------------------------------------------------------------------

    def check(self, resource: CatalogResource) -> FlowSummary:
        summary = FlowSummary(flow=resource.name, kind="check")
        if not self.channel.supports(resource.check):
            summary.skipped = f"the channel does not support {resource.check}"
            return summary
        run = Run(resource, summary)
        with self._stopping(run):
            self._open(run)
            open_batches = self.omnitron.batches(OPEN_REMOTE, resource.model)
            settling: list[tuple[Future[None], FlowSummary]] = []
            try:
                for index, batch in enumerate(open_batches, start=1):
                    self.budget.check()
                    settle = self._settler.poll(resource, batch, summary)
                    if settle is not None:
                        # the channel is asked about the next batch while this one settles
                        if len(settling) >= SETTLING:
                            self._settled(summary, settling.pop(0))
                        part = FlowSummary(flow=summary.flow, kind=summary.kind)
                        settling.append((self.omnitron.executor().submit(settle, part), part))
                    self.budget.progressed()
                    self.progress(index, len(open_batches))
            finally:
                wait([job for job, _ in settling])  # a stopped run leaves nothing settling
                for each in settling:
                    self._settled(summary, each)
        return self._finish(run)

    @staticmethod
    def _settled(summary: FlowSummary, settling: tuple[Future[None], FlowSummary]) -> None:
        """Wait for one batch's settling; its counts join the run's, its error is raised."""
        job, part = settling
        try:
            job.result()
        finally:
            summary.add(part)

    # --- Housekeeping ------------------------------------------------------------------

    def repair(self, resource: CatalogResource) -> int:
        """Fail batches a crashed run left committed (see :meth:`.Batches.repair`), inside
        the commit gate: a live batch is committed only while its sender holds the gate, so
        what is found committed from inside it is no live run's, even while other processes
        send the same content type (a fanned-out run)."""
        with self._gate(resource.model):
            return self._batches.repair(resource)

    def repair_model(self, model: str) -> int:
        """:meth:`repair` for a content model, called from inside its gate (the gate is
        not re-entrant): what a holder that died in the gate left committed."""
        for resource in RESOURCES.values():
            if resource.model == model:
                return self._batches.repair(resource)
        return 0
