"""SQLite plumbing for a simulator's state file: one serialized connection and transactions.

One connection guarded by a re-entrant lock: each simulator runs in one uvicorn process and every
query is short, so this is faster than a pool and keeps writes atomic. WAL with
``synchronous=NORMAL`` keeps commits cheap; the file survives restarts (``--state``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "temp_store=MEMORY",
    "cache_size=-65536",
    "foreign_keys=OFF",
)


class Database:
    """A connection, its lock and ``tx()``; ``meta`` is a small key/value table for settings."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def execute_script(self, statements: list[str] | tuple[str, ...]) -> None:
        with self.tx() as conn:
            for statement in statements:
                conn.execute(statement)

    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        with self.lock:
            self.conn.close()
