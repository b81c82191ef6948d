"""What a catalog run is told (:class:`EngineOptions`), what it reports
(:class:`FlowSummary`), what one pass remembers (:class:`Run`) and what the engine talks
to (:class:`Wiring`).

Every part of the engine reads or fills these, so they live apart from all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.channel import ChannelIntegration
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.journal import BatchJournal
from channel_app_template.core.engine.resources import CatalogResource

Progress = Callable[[int, int | None], None]
MAX_PAGE_WALK = 10_000  # pages stepped over in one run (only ever unsendable ones)


@dataclass
class FlowSummary:
    """What one run did; returned by the task, so Flower shows it."""

    flow: str
    kind: str
    batches: list[int] = field(default_factory=list)
    sent: int = 0
    succeeded: int = 0
    carried: int = 0  # other objects settled with them (a product's stock, price, images)
    failed: int = 0
    submitted: int = 0
    still_running: int = 0
    timed_out: int = 0
    unreadable: int = 0  # rows that do not fit their model (failed, or skipped without pk)
    bad_dates: int = 0  # objects not sent: a modified_date that cannot be recorded
    waiting: int = 0  # failed objects whose next attempt is not due yet
    parked: int = 0  # failed objects out of automatic attempts
    resent: int = 0  # failed objects sent again
    skipped: str | None = None
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v not in (None, [], 0) or k in ("flow", "kind")
        }

    def add(self, part: FlowSummary) -> None:
        """Add what ``part`` (a piece of this run done on another thread) counted."""
        for name, value in vars(part).items():
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, name, getattr(self, name) + value)
            elif isinstance(value, list):
                getattr(self, name).extend(value)

    def counts(self) -> dict[str, Any]:
        """The counters for a structured log line."""
        return {k: v for k, v in self.as_dict().items() if isinstance(v, int)}


@dataclass
class EngineOptions:
    match_path: str = "sku"
    batch_size: int = 500
    stale_after: float = 6 * 3600.0
    date_tolerance: float = 600.0  # seconds a modified_date may be ahead of our clock
    retry_scan: int = 2000  # failed objects looked at per run for automatic re-sends
    carry: bool = True  # settle what a product's payload carried with it (``product_carries``)


@dataclass
class Run:
    """One pass over a list of candidates: what it has already looked at."""

    resource: CatalogResource
    summary: FlowSummary
    list_id: int | None = None
    source: str = ""  # the Omnitron list the run reads its candidates from, for messages
    seen: set[str] = field(default_factory=set)
    done: int = 0
    total: int | None = None

    def first_time(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@dataclass(frozen=True)
class Wiring:
    """What one engine talks to: every part of it gets the same."""

    omnitron: OmnitronIntegration
    channel: ChannelIntegration
    journal: BatchJournal
    options: EngineOptions
    book: FailureBook | None = None
