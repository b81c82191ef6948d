"""Stop *starting* work once a run's budget is spent, but finish what was started.

Inbound flows handle a page of orders or events concurrently and then, for the page,
record mappings and acknowledge on the marketplace. Raising in the middle of that would
leave created orders unacknowledged (harmless, they are looked up next run) or, worse,
tempt a caller to acknowledge blindly. So each item asks :meth:`Gate.may_start` first;
once the budget says no, every later item is deferred to the next run, the page is
finished for the items already handled, and the flow raises :attr:`Gate.stopped` at the
next page boundary (:meth:`Gate.run_pages` is that loop, for every inbound flow).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from channel_app_template.akinon.pagination import chunked
from channel_app_template.core.budget import Budget, BudgetExceeded

__all__ = ["Gate"]

T = TypeVar("T")


class Gate:
    """A thread-safe view of one run's :class:`Budget` for concurrent item work."""

    def __init__(self, budget: Budget | None) -> None:
        self.budget = budget or Budget.unlimited()
        self.stopped: BudgetExceeded | None = None
        self._lock = threading.Lock()

    def may_start(self) -> bool:
        """False once the budget is spent (and from then on): defer this item."""
        with self._lock:
            if self.stopped is None:
                try:
                    self.budget.check()
                except BudgetExceeded as error:
                    self.stopped = error
            return self.stopped is None

    def progressed(self) -> None:
        with self._lock:
            self.budget.progressed()

    def check(self) -> None:
        """At a page boundary: raise if the budget was spent, now or during the page."""
        self.may_start()
        if self.stopped is not None:
            raise self.stopped

    def run_pages(
        self,
        items: Callable[[], Iterable[T]],
        page_size: int,
        handle: Callable[[list[T]], None],
        *,
        flow: str,
        counts: Callable[[], Mapping[str, Any]],
        kept: str,
        log: logging.Logger,
        settle: Callable[[], None] = lambda: None,
    ) -> None:
        """Read ``items()`` (only if the budget allows starting) and ``handle`` it page by
        page, checking the budget at every page boundary; the run's counts are logged at
        the end (on the flow's ``log``), or, when the budget stops it, with ``kept`` (what
        the stopped run keeps) before :class:`BudgetExceeded` goes up. ``settle`` waits
        for the pages ``handle`` left closing in the background, whatever ends the loop."""
        try:
            try:
                self.check()
                for page in chunked(items(), page_size):
                    self.check()
                    handle(page)
            finally:
                settle()
            if self.stopped is not None:  # the last page was cut short by the budget
                raise self.stopped
        except BudgetExceeded as error:
            log.warning(
                "%s stopped: %s; %s, the rest waits for the next run",
                flow,
                error.message,
                kept,
                extra={"flow": flow, "counts": counts()},
            )
            raise
        log.info("%s: %s", flow, counts(), extra={"flow": flow, "counts": counts()})
