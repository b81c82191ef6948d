"""Settling a batch: the channel's result rows become the outcome of every object sent.

A batch is settled once, either right after the call (synchronous channels) or by the
check run once the channel's job is done (:meth:`Settler.poll`, with what the send
run saved in the journal). An object counts as sent only when a success row matched its
key and named a remote id; everything else fails with a reason and an error report.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence

import redis

from channel_app_template.akinon.models import BatchRequest, BatchRequestObject
from channel_app_template.channel import (
    FailedReasonType,
    ResponseStatus,
    ResultDto,
)
from channel_app_template.core.engine.flows._batches import Batches
from channel_app_template.core.engine.flows._summary import FlowSummary, Wiring
from channel_app_template.core.engine.resources import CatalogResource, Cover, Failure

logger = logging.getLogger(__name__)


class Settler:
    """Turns result rows into outcomes, for one engine."""

    def __init__(self, wiring: Wiring, batches: Batches) -> None:
        self.omnitron, self.channel, self.journal = wiring.omnitron, wiring.channel, wiring.journal
        self.options, self.book, self.batches = wiring.options, wiring.book, batches

    def poll(
        self, resource: CatalogResource, batch: BatchRequest, summary: FlowSummary
    ) -> Callable[[FlowSummary], None] | None:
        """Ask the channel whether a submitted batch's job is done; give the batch up if
        it is stale, and fail it if its journal is gone (its objects are then sent again).
        Returns what settles a done batch (Omnitron and Redis only, so it may run on
        another thread while the channel is asked about the next batch), or ``None`` when
        nothing is left to do now."""
        pk = int(batch.pk or 0)
        journal = self.journal.load(pk)
        if journal is None:
            logger.warning(
                "batch %s: its journal is gone; failing it so its objects are sent again",
                pk,
                extra={"flow": resource.name, "batch": pk},
            )
            self.batches.abort(batch)
            summary.failed += 1
            return None
        if self.batches.is_stale(batch):
            failures = journal.failures + [
                Failure(t, FailedReasonType.REMOTE, "the channel did not finish the job in time")
                for cover in journal.covers.values()
                for t in cover.tracked
            ]
            self.batches.report(batch, resource.check, _own(resource, failures))
            self.omnitron.abort(batch, [f.tracked.outcome(failed=f.reason) for f in failures])
            self.journal.drop(pk)
            summary.timed_out += 1
            summary.batches.append(pk)
            return None
        rows = getattr(self.channel, resource.check)(batch.remote_batch_id or "")
        if rows is None:
            self.omnitron.still_running(batch)
            summary.still_running += 1
            return None
        summary.batches.append(pk)

        def settle(into: FlowSummary) -> None:
            self.settle(
                resource,
                batch,
                resource.check,
                journal.covers,
                [*rows, *journal.rejected],
                journal.failures,
                into,
            )
            self.journal.drop(pk)

        return settle

    def settle(
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
        deletes = bool(resource.deletes)
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
            elif deletes:
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
            self._forget_deleted(resource, confirmed)
        model = resource.objects_model
        succeeded = [o.pk for o in outcomes if o.content_type == model]
        summary.carried += len(outcomes) - len(succeeded)
        outcomes += [f.tracked.outcome(failed=f.reason) for f in failures]
        self.omnitron.finish(batch, outcomes)
        failures = _own(resource, failures)
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
        self.batches.report(batch, command, failures)

    def _forget_deleted(self, resource: CatalogResource, remote_ids: list[str]) -> None:
        for model in resource.deletes:
            self.omnitron.forget(self.omnitron.actions_by_remote_id(model, remote_ids))


def _own(resource: CatalogResource, failures: Sequence[Failure]) -> list[Failure]:
    """The failures of ``resource``'s own objects: what rode with them (a product's
    stock, price and images) fails with its product and is reported once, as the product."""
    return [f for f in failures if f.tracked.model == resource.objects_model]


def row_key(row: ResultDto, resource: CatalogResource) -> str:
    """What a result row is matched on, as ``resource`` declares it: the remote id for
    deletions (the product is gone from Omnitron), the order number for orders, the sku
    otherwise."""
    return resource.matched_by(row)
