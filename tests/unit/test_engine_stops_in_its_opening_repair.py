"""A run stopped while it repairs (before its first batch) says why instead of crashing.

The repair lists Omnitron's committed batches; a slow or failing answer there raises
``RetryLater`` (a deadline) or ``BudgetExceeded`` like any later request of the run, and the
run must end with its reason in the summary, as it does between batches.
"""

from __future__ import annotations

from typing import Any

import pytest

from channel_app_template.core.budget import BudgetExceeded
from channel_app_template.core.engine.flows import CatalogEngine, EngineOptions
from channel_app_template.core.engine.resources import PRODUCTS
from channel_app_template.errors import RetryLater


class _Omnitron:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def batches(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        raise self.error


class _Channel:
    max_batch_size = 100

    def supports(self, _command: str) -> bool:
        return True


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (RetryLater("Omnitron GET batch_requests/ took longer than its deadline"), "retry later"),
        (BudgetExceeded("the run used its 10 s budget"), "10 s budget"),
    ],
)
def test_every_run_kind_stops_with_its_reason_when_the_repair_is_cut_short(
    error: Exception, said: str
) -> None:
    engine = CatalogEngine(
        _Omnitron(error),  # type: ignore[arg-type]
        _Channel(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        EngineOptions(batch_size=10),
    )
    for run in (
        lambda: engine.send(PRODUCTS, "inserts"),
        lambda: engine.resend(PRODUCTS, None),
        lambda: engine.check(PRODUCTS),
    ):
        summary = run()
        assert summary.stopped is not None
        assert said in summary.stopped
        assert summary.batches == []
