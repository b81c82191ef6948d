"""The catalog flow engine: one implementation for every catalog resource.

A send run repeats, until nothing is pending: read the first page of pending objects
(committed objects leave the pending views, so page one always holds the next ones),
open a batch request and commit the page to it, turn the objects into channel items,
call the channel command, then either settle the batch now (synchronous channels) or
record the channel's job id and leave the batch to the check run.

Guarantees, each with a test: every batch that is opened is closed, on exceptions too;
the ``version_date`` recorded is the ``modified_date`` read at fetch time, so a change
made while a batch is in flight is sent by a later run; an object is recorded as sent
only when the channel returned a success row for its matching key; one bad object gets
an error report and never stops the others; an empty run opens no batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from channel_app_template.akinon.integration import OPEN_REMOTE, OmnitronIntegration, Tracked
from channel_app_template.akinon.models import BatchRequest, BatchRequestObject, BatchRequestStatus
from channel_app_template.core.commands import ChannelIntegration
from channel_app_template.core.dto import (
    BatchRequestResponseDto,
    FailedReasonType,
    OrderBatchRequestResponseDto,
    ResponseStatus,
    ResultDto,
    Submitted,
)
from channel_app_template.core.errors import (
    ChannelAppError,
    ConfigurationError,
    ItemError,
    RetryLater,
)
from channel_app_template.core.journal import BatchJournal
from channel_app_template.core.resources import (
    CatalogResource,
    Cover,
    Failure,
    PrepareContext,
    Prepared,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


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
    skipped: str | None = None
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v not in (None, [], 0) or k in ("flow", "kind")
        }


@dataclass
class EngineOptions:
    match_path: str = "sku"
    batch_size: int = 500
    stale_after: float = 6 * 3600.0
    forget_on_delete: tuple[str, ...] = (  # mappings dropped when a product is deleted
        "product",
        "productstock",
        "productprice",
        "productimage",
    )


class CatalogEngine:
    """Runs catalog flows between one Omnitron channel and one channel integration."""

    def __init__(
        self,
        omnitron: OmnitronIntegration,
        channel: ChannelIntegration,
        journal: BatchJournal,
        options: EngineOptions,
        progress: Progress | None = None,
    ) -> None:
        self.omnitron = omnitron
        self.channel = channel
        self.journal = journal
        self.options = options
        self.progress = progress or (lambda done, total: None)

    # --- Send --------------------------------------------------------------------------

    def send(self, resource: CatalogResource, kind: str, list_id: int | None = None) -> FlowSummary:
        command = resource.command(kind)
        summary = FlowSummary(
            flow=resource.name, kind=kind if list_id is None else f"{kind}:{list_id}"
        )
        if not self.channel.supports(command):
            summary.skipped = f"the channel does not support {command}"
            return summary
        self.repair(resource)
        limit = min(self.options.batch_size, type(self.channel).max_batch_size)
        pending = resource.read_pending(self.omnitron, kind, limit, list_id)
        total: int | None = None
        seen: set[int] = set()
        done = 0
        while True:
            page = pending.first_page()
            fresh = [obj for obj in page if int(obj.pk) not in seen]
            if not fresh:
                if page:
                    logger.warning(
                        "%s %s: page one holds only objects already handled in this "
                        "run; the rest waits for the next run",
                        resource.name,
                        kind,
                    )
                break
            if total is None:
                total = pending.count() if len(page) >= limit else len(page)
            seen.update(int(obj.pk) for obj in fresh)
            try:
                self._send_batch(resource, kind, list_id, command, fresh, summary)
            except RetryLater as error:
                summary.stopped = f"the channel asked to retry later: {error.message}"
                break
            done += len(fresh)
            self.progress(done, max(total, done))
        return summary

    def _send_batch(
        self,
        resource: CatalogResource,
        kind: str,
        list_id: int | None,
        command: str,
        objects: Sequence[Any],
        summary: FlowSummary,
    ) -> None:
        tracked = [Tracked(int(o.pk), resource.objects_model, o.modified_date) for o in objects]
        batch = self.omnitron.open_batch()
        summary.batches.append(int(batch.pk or 0))
        try:
            self.omnitron.commit(batch, resource.model, tracked)
            context = PrepareContext(
                self.omnitron, self.options.match_path, kind, list_id, self.channel.config
            )
            prepared = resource.prepare(context, objects)
            result = self._call(resource, command, prepared)
            if isinstance(result, Submitted):
                # Everything the batch carried is settled (and reported) by the check run:
                # what the job returns, what the channel refused before sending, and what
                # could not be sent at all.
                rejected = [(row_key(row, resource), row) for row in result.rejected]
                pk = int(batch.pk or 0)
                self.journal.save(pk, prepared.covers, rejected, prepared.failures)
                self.omnitron.submitted(batch, result.remote_batch_id)
                summary.sent += len(prepared.items)
                summary.submitted += len(tracked)
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
        logger.info(
            "%s: %d items in %.2fs", command, len(prepared.items), time.monotonic() - started
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
        self.repair(resource)
        open_batches = self.omnitron.batches(OPEN_REMOTE, resource.model)
        for index, batch in enumerate(open_batches, start=1):
            try:
                self._check_batch(resource, batch, summary)
            except RetryLater as error:
                summary.stopped = f"the channel asked to retry later: {error.message}"
                break
            self.progress(index, len(open_batches))
        return summary

    def _check_batch(
        self, resource: CatalogResource, batch: BatchRequest, summary: FlowSummary
    ) -> None:
        pk = int(batch.pk or 0)
        journal = self.journal.load(pk)
        if journal is None:
            logger.warning(
                "batch %s: its journal is gone; failing it so its objects are sent again", pk
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
                "%s: ignored %d result rows that match no object sent", command, len(by_key)
            )
        if confirmed:
            self._forget_deleted(confirmed)
        outcomes += [f.tracked.outcome(failed=f.reason) for f in failures]
        self.omnitron.finish(batch, outcomes)
        summary.succeeded += len(outcomes) - len(failures)
        summary.failed += len(failures)
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
            )
            self._abort(batch)
            repaired += 1
        return repaired

    def _is_stale(self, batch: BatchRequest) -> bool:
        opened = _parse_time(batch.created_date)
        if opened is None:
            return False
        age = (dt.datetime.now(dt.UTC) - opened).total_seconds()
        return age > self.options.stale_after

    def _abort(self, batch: BatchRequest) -> None:
        try:
            self.omnitron.abort(batch)
        except Exception:  # the original error matters more; a stale batch is repaired later
            logger.exception("could not fail batch %s", batch.pk)

    def _report(self, batch: BatchRequest, command: str, failures: Sequence[Failure]) -> None:
        name = "".join(part.title() for part in command.split("_"))
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


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
