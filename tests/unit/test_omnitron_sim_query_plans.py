"""The Omnitron simulator's look-ups by a selective column use that column's index, not the
channel's (a channel holds nearly every row, so scanning it grew with the data: issue 13)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from channel_app_template.sandbox.omnitron.store import Store
from channel_app_template.sandbox.omnitron.store._schema import schema_statements


@pytest.mark.parametrize(
    ("table", "column", "index"),
    [
        ("addresses", "hash_data", "ix_addresses__hash_data"),
        ("customers", "email", "ix_customers__email"),
        ("customers", "phone_number", "ix_customers__phone_number"),
    ],
)
def test_a_channel_scoped_look_up_searches_the_selective_index(
    table: str, column: str, index: str
) -> None:
    store = Store(":memory:")
    sql = f"SELECT COUNT(*) FROM {table} t WHERE t.{column} = ? AND t.channel = ?"  # noqa: S608
    plan = " ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, ["x", 1]))
    assert f"USING INDEX {index} " in plan


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT * FROM integration_actions t WHERE t.channel = ? AND t.model = ? "
            "AND t.remote_id IN (?, ?)",
            "ix_integration_actions__channel__model__remote_id",
        ),
        (
            "SELECT * FROM cancellation_requests t WHERE t.remote_id = ?",
            "ix_cancellation_requests__remote_id",
        ),
    ],
)
def test_a_look_up_by_remote_id_searches_by_remote_id(sql: str, index: str) -> None:
    store = Store(":memory:")
    params = [1] * sql.count("?")
    plan = " ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert f"USING INDEX {index} " in plan
    assert "remote_id=?" in plan


def test_a_state_file_with_the_old_channel_indexes_loses_them(tmp_path: Path) -> None:
    path = tmp_path / "omnitron.sqlite3"
    with sqlite3.connect(path) as conn:
        for statement in schema_statements():
            if statement.startswith("CREATE TABLE"):
                conn.execute(statement)
        conn.execute("CREATE INDEX ix_addresses__channel ON addresses (channel)")
    store = Store(str(path))
    names = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master")}
    assert "ix_addresses__channel" not in names
    assert "ix_addresses__hash_data" in names
