"""A batch request's life on Omnitron's side, when it does not end well.

Omnitron allows one committed batch per content type, so a batch left committed locks its
objects and its content type: every batch that is opened must be closed, on exceptions
too (:meth:`Batches.abort`), one a crashed run left committed is failed by the next run
(:meth:`Batches.repair`), and one whose channel job outlived ``stale_after`` is given up
(:meth:`Batches.is_stale`). Failed objects get one error report each (:meth:`Batches.report`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Sequence

from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.models import BatchRequest, BatchRequestStatus
from channel_app_template.core.engine.flows._summary import Wiring
from channel_app_template.core.engine.resources import CatalogResource, Failure
from channel_app_template.errors import ChannelAppError

logger = logging.getLogger(__name__)


class Batches:
    """Closes, repairs and reports batch requests of one engine."""

    def __init__(self, wiring: Wiring) -> None:
        self.omnitron, self.options = wiring.omnitron, wiring.options

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
            self.abort(batch)
            repaired += 1
        return repaired

    def is_stale(self, batch: BatchRequest) -> bool:
        opened = parse_date(batch.created_date)
        if opened is None:
            return False
        age = (dt.datetime.now(dt.UTC) - opened).total_seconds()
        return age > self.options.stale_after

    def abort(self, batch: BatchRequest) -> None:
        try:
            self.omnitron.abort(batch)
        except Exception:  # the original error matters more; a stale batch is repaired later
            logger.exception("could not fail batch %s", batch.pk, extra={"batch": batch.pk})

    def report(self, batch: BatchRequest, command: str, failures: Sequence[Failure]) -> None:
        name = title(command)
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


def title(command: str) -> str:
    """``send_inserted_products`` -> ``SendInsertedProducts`` (error report codes)."""
    return "".join(part.title() for part in command.split("_"))
