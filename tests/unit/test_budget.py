"""A run's budget: over its total time, or without progress for too long, it stops."""

from __future__ import annotations

import pytest

from channel_app_template.core.budget import Budget, BudgetExceeded
from channel_app_template.errors import RunError


def test_a_run_stops_after_its_total_time_even_while_progressing() -> None:
    now = [0.0]
    budget = Budget(10.0, 4.0, clock=lambda: now[0])
    for _ in range(3):
        now[0] += 3.0
        budget.progressed()
        budget.check()
    now[0] += 3.0  # 12 s in, progress 3 s ago
    budget.progressed()
    with pytest.raises(BudgetExceeded, match="10s time budget"):
        budget.check()


def test_a_run_without_progress_stops_after_the_stall_limit() -> None:
    now = [0.0]
    budget = Budget(100.0, 4.0, clock=lambda: now[0])
    now[0] = 4.0
    budget.check()  # exactly at the limit: still fine
    now[0] = 4.5
    with pytest.raises(BudgetExceeded, match="no progress for 4s") as raised:
        budget.check()
    assert isinstance(raised.value, RunError)  # callers that stop on run errors stop here too


def test_limits_must_be_positive_and_unlimited_never_stops() -> None:
    with pytest.raises(ValueError):
        Budget(0.0, 1.0)
    with pytest.raises(ValueError):
        Budget(1.0, -1.0)
    Budget.unlimited().check()
