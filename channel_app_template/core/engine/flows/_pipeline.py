"""One batch, read to settled: commit the objects, prepare items, call the channel.

The ``version_date`` committed is the ``modified_date`` read at fetch time, so a change made
while the batch is in flight is sent by a later run. The batch is closed on every way out:
settled now (synchronous channels), left to the check run with the channel's job id and a
journal of what it carried (:class:`~channel_app_template.channel.Submitted`), or failed
when anything raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from channel_app_template.akinon.integration import Tracked
from channel_app_template.akinon.models import BatchRequest
from channel_app_template.channel import (
    FailedReasonType,
    ResultDto,
    Submitted,
)
from channel_app_template.core.engine._resource import failed_row
from channel_app_template.core.engine.flows._batches import Batches
from channel_app_template.core.engine.flows._gate import CommitGate
from channel_app_template.core.engine.flows._settle import Settler, row_key
from channel_app_template.core.engine.flows._summary import Run, Wiring
from channel_app_template.core.engine.resources import (
    CatalogResource,
    Failure,
    PrepareContext,
    Prepared,
)
from channel_app_template.errors import ChannelAppError, ConfigurationError, ItemError, RetryLater

logger = logging.getLogger(__name__)


class Pipeline:
    """Sends batches, for one engine."""

    def __init__(
        self, wiring: Wiring, batches: Batches, settler: Settler, gate: CommitGate
    ) -> None:
        self.omnitron, self.channel, self.journal = wiring.omnitron, wiring.channel, wiring.journal
        self.options, self.batches, self.settler = wiring.options, batches, settler
        self.gate = gate

    def prepare(
        self, run: Run, kind: str, objects: Sequence[Any], rejects: Sequence[Failure] = ()
    ) -> Prepared:
        """The channel items for ``objects`` (reads their details; commits nothing, so it
        may run while another batch of the resource is in flight)."""
        context = PrepareContext(
            self.omnitron,
            self.options.match_path,
            kind,
            run.list_id,
            self.channel.config,
            type(self.channel).product_carries if self.options.carry else frozenset(),
        )
        prepared = run.resource.prepare(context, objects) if objects else Prepared()
        prepared.failures.extend(rejects)
        return prepared

    def send_batch(
        self,
        run: Run,
        kind: str,
        command: str,
        objects: Sequence[Any],
        rejects: Sequence[Failure] = (),
        prepared: Prepared | None = None,
    ) -> None:
        """``objects`` (and ``rejects``, committed as failed) as one batch of ``run``;
        ``prepared`` when their items were made ahead (:meth:`prepare`)."""
        resource = run.resource
        tracked = [Tracked(int(o.pk), resource.objects_model, o.modified_date) for o in objects]
        tracked += [reject.tracked for reject in rejects]
        batch = self.omnitron.open_batch()
        run.summary.batches.append(int(batch.pk or 0))
        closed = False
        try:
            with self.gate(resource.model):
                try:
                    # what the items carry besides their own objects is committed too
                    model = resource.objects_model
                    riders = prepared.riders(model) if prepared is not None else []
                    self.omnitron.commit(batch, resource.model, [*tracked, *riders])
                    if prepared is None:
                        prepared = self.prepare(run, kind, objects, rejects)
                        if riders := prepared.riders(model):  # committing again adds them
                            self.omnitron.commit(batch, resource.model, riders)
                    self._call_and_close(run, command, batch, tracked, prepared)
                except BaseException:
                    closed = True
                    self.batches.abort(batch)
                    raise
        except BaseException:
            if not closed:  # the gate itself failed: the batch was opened, never committed
                self.batches.abort(batch)
            raise

    def _call_and_close(
        self,
        run: Run,
        command: str,
        batch: BatchRequest,
        tracked: Sequence[Tracked],
        prepared: Prepared,
    ) -> None:
        """Call the channel; the batch leaves COMMIT here: settled now, or submitted."""
        resource, summary = run.resource, run.summary
        pk = int(batch.pk or 0)
        result = self.call(resource, command, prepared)
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
        self.settler.settle(
            resource, batch, command, prepared.covers, result, prepared.failures, summary
        )

    def call(
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
            return [failed_row(key, error.message, reason) for key in prepared.covers]
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
