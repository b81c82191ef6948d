"""How long one flow run may take, and how long it may go without making progress.

A run that keeps its flow's lock while doing nothing useful (a peer that pages forever,
trickles its answer, or a loop over junk) blocks every later run of that flow. Each run
therefore gets a :class:`Budget`: the flow calls :meth:`Budget.progressed` whenever it
got something done (a page read, a batch settled, an order created) and
:meth:`Budget.check` between units of work; ``check`` raises :class:`BudgetExceeded`
once the run is over its total time or has made no progress for too long. The run then
stops the normal way: open batches are failed, the lock is released, a log line says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from channel_app_template.errors import RunError

__all__ = ["Budget", "BudgetExceeded"]


class BudgetExceeded(RunError):
    """The run used up its time budget or stalled; it stops and frees its lock."""


class Budget:
    """A run's deadline (``total`` seconds) and stall limit (``stall`` seconds)."""

    def __init__(
        self,
        total: float,
        stall: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (total > 0 and stall > 0):
            raise ValueError("budget and stall limit must be positive")
        self.total = total
        self.stall = stall
        self._clock = clock
        self.started = clock()
        self._last_progress = self.started

    @classmethod
    def unlimited(cls) -> Budget:
        """For callers outside a task run (tests, the conformance kit)."""
        return cls(float("inf"), float("inf"))

    def progressed(self) -> None:
        """Something was done: the stall clock starts again."""
        self._last_progress = self._clock()

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` if the run is over its budget or stalled."""
        now = self._clock()
        if now - self.started > self.total:
            raise BudgetExceeded(f"the run went over its {self.total:.0f}s time budget")
        if now - self._last_progress > self.stall:
            raise BudgetExceeded(f"the run made no progress for {self.stall:.0f}s")

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started
