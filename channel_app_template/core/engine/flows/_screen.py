"""Screening a page of pending objects before it becomes a batch.

What Omnitron returns is not all sendable: an object already handled in this run, a
``modified_date`` the engine must not record (unparseable, missing, in the future: reported
once, then left out until it is sane), a failed object whose next attempt is not due, and
rows that do not fit their model (committed as failed, so the pending view stops returning
them). :class:`Screen` sorts a page into what to send and what to fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any

from channel_app_template.akinon.dates import date_problem
from channel_app_template.akinon.integration import Tracked
from channel_app_template.akinon.pagination import Page
from channel_app_template.channel import FailedReasonType
from channel_app_template.core.engine.flows._batches import title
from channel_app_template.core.engine.flows._summary import Run, Wiring
from channel_app_template.core.engine.resources import Failure
from channel_app_template.errors import ChannelAppError

logger = logging.getLogger(__name__)


class Screen:
    """Sorts pages of pending objects, for one engine."""

    def __init__(self, wiring: Wiring) -> None:
        self.omnitron, self.options, self.book = wiring.omnitron, wiring.options, wiring.book

    def screen(
        self, run: Run, command: str, page: Page[Any], *, seen: bool = True
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
                self.bad_date(run, command, pk, obj.modified_date, problem)
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
                self.bad_date(run, command, row.pk, row.modified_date, problem, row.describe())
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

    def bad_date(
        self,
        run: Run,
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
                code=f"Omnitron-{title(command)}-{pk}"[:255],
                description=f"{FailedReasonType.CHANNEL_APP.value}: {why}",
            )
