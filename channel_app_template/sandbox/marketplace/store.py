"""The marketplace's state: one SQLite file, schema assembled from each module's ``DDL``.

Modules own their tables (``catalog``: reference data; ``products``; ``batches``); a later
``orders`` module adds its ``DDL`` and ``DATA_TABLES`` to the tuples below and nothing else here
changes. Reference data is seeded on every start (idempotently); ``reset`` wipes only data.
"""

# SQL here is built only from table names declared in this package; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from channel_app_template.sandbox.common.lenient import plain
from channel_app_template.sandbox.common.sqlite import Database

from . import batches, catalog, orders, products
from .seed import seed_reference_data

SCHEMA = (*catalog.DDL, *products.DDL, *batches.DDL, *orders.DDL)
DATA_TABLES = (*products.DATA_TABLES, *batches.DATA_TABLES, *orders.DATA_TABLES)
DEFAULT_BATCH_DELAY = 1.0


class MarketStore(Database):
    """All marketplace state, plus the run-time knobs that belong to it (batch delay)."""

    def __init__(
        self,
        path: str,
        *,
        seed: int = 0,
        batch_delay: float = DEFAULT_BATCH_DELAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(path)
        self.seed = seed
        self.clock = clock
        self.batch_delay = batch_delay
        self.execute_script(SCHEMA)
        with self.tx() as conn:
            seed_reference_data(conn)
        self.catalog = catalog.Catalog.load(self.conn)
        row = self.conn.execute(
            "SELECT MIN(ready_at) FROM batches WHERE status = ?", (batches.PROCESSING,)
        ).fetchone()
        self.next_ready: float | None = None if row[0] is None else float(row[0])

    # ------------------------------------------------------------------ batches
    def note_pending(self, ready_at: float) -> None:
        if self.next_ready is None or ready_at < self.next_ready:
            self.next_ready = ready_at

    def settle(self, *, force: bool = False) -> int:
        """Complete the batches that are due; cheap when none is (no query at all)."""
        if self.next_ready is None or (not force and self.next_ready > self.clock()):
            return 0
        return batches.settle(self, force=force)

    # ------------------------------------------------------------------ housekeeping
    @staticmethod
    def iso(stamp: Any) -> Any:
        """``2026-01-02T03:04:05.678Z``: milliseconds and ``Z`` always (a stored value that is
        not a time, a bad row, is served as it is)."""
        try:
            moment = datetime.fromtimestamp(stamp, UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            return plain(stamp)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def reset(self) -> None:
        """Drop every product, batch, order, event and claim (ids start again at 1);
        reference data stays."""
        with self.tx() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute(
                f"DELETE FROM sqlite_sequence WHERE name IN ({', '.join('?' * len(DATA_TABLES))})",
                DATA_TABLES,
            )
            seed_reference_data(conn)
        self.catalog = catalog.Catalog.load(self.conn)
        self.next_ready = None

    def counts(self) -> dict[str, int]:
        with self.lock:
            one = self.conn.execute
            return {
                "categories": int(one("SELECT COUNT(*) FROM categories").fetchone()[0]),
                "attributes": int(one("SELECT COUNT(*) FROM attributes").fetchone()[0]),
                "products": int(
                    one("SELECT COUNT(*) FROM products WHERE status = 'active'").fetchone()[0]
                ),
                "products_deleted": int(
                    one("SELECT COUNT(*) FROM products WHERE status = 'deleted'").fetchone()[0]
                ),
                "batches": int(one("SELECT COUNT(*) FROM batches").fetchone()[0]),
                "orders": int(one("SELECT COUNT(*) FROM orders").fetchone()[0]),
                "batches_processing": int(
                    one(
                        "SELECT COUNT(*) FROM batches WHERE status = ?", (batches.PROCESSING,)
                    ).fetchone()[0]
                ),
            }

    def seconds_until_due(self) -> float | None:
        if self.next_ready is None:
            return None
        return max(0.0, math.ceil((self.next_ready - self.clock()) * 1000) / 1000)
