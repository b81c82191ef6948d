"""The settings (the bottom layer) check ``BEAT_SCHEDULE``'s shape and values, the flow
registry its task names: every Procfile process still refuses a schedule with an unknown
task and a bad value, listing both in one message, and exits with 2."""

from __future__ import annotations

import tempfile

import pytest

from tests.integration.test_startup_errors import run_procfile_line
from tests.support.stack import app_env

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("process", ["web", "worker", "beat", "flower"])
def test_every_procfile_process_lists_unknown_tasks_with_bad_values(process: str) -> None:
    env = app_env(
        "redis://127.0.0.1:9/0",
        BEAT_SCHEDULE='{"fetch_order": 30, "check_stocks": -1, "fetch_orders": 30}',
        BEAT_SCHEDULE_FILE=f"{tempfile.mkdtemp()}/schedule",
        OMNITRON_READ_TIMEOUT="1e300",  # another setting's problem, listed with them
    )
    result = run_procfile_line(process, env, tempfile.mkdtemp())
    assert result.returncode == 2, (result.stdout + result.stderr)[-3000:]
    assert "BEAT_SCHEDULE: unknown task 'fetch_order'" in result.stderr
    assert "BEAT_SCHEDULE: check_stocks must be seconds" in result.stderr
    assert "fetch_orders" not in result.stderr.replace("'fetch_order'", "")
    assert "OMNITRON_READ_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr
