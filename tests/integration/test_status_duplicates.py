"""``channel-app status`` notices two worker processes that answer as one node name, which
Flower and ``/health`` would count as one worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.support.processes import REPO_ROOT
from tests.support.stack import ADMIN, Stack, clean_environ, running_stack, start_worker

pytestmark = pytest.mark.integration


def status(stack: Stack) -> tuple[dict[str, Any], str]:
    env = clean_environ()
    env.update(
        CHANNEL_APP_URL=stack.web_url,
        FLOWER_BASIC_AUTH=f"{ADMIN[0]}:{ADMIN[1]}",
        PYTHONPATH=str(REPO_ROOT),
    )
    command = [sys.executable, "-m", "channel_app_template.cli", "status"]
    as_json = subprocess.run(
        [*command, "--json"], env=env, cwd="/", capture_output=True, text=True, timeout=120
    )
    as_text = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, timeout=120)
    return json.loads(as_json.stdout), as_text.stdout


def wait_for(stack: Stack, want_duplicate: bool, timeout: float = 90) -> tuple[dict[str, Any], str]:
    deadline = time.monotonic() + timeout
    while True:
        data, text = status(stack)
        if bool(data["duplicate_node_names"]) == want_duplicate:
            return data, text
        if time.monotonic() > deadline:
            raise TimeoutError(f"status never said duplicate={want_duplicate}:\n{text}")
        time.sleep(1.0)


def test_status_warns_about_two_workers_with_one_node_name() -> None:
    with running_stack() as stack:
        first, _ = wait_for(stack, want_duplicate=False)  # one worker: no warning
        assert len(first["workers"]) == 1
        name = first["workers"][0]["name"]
        twin = start_worker(stack.env, stack.workdir, name="w1")  # the same -n as the first
        try:
            data, text = wait_for(stack, want_duplicate=True)
            assert data["duplicate_node_names"] == [name]
            assert f"more than one worker process answers as {name!r}" in text
            assert "(DUPLICATE)" in text
        finally:
            twin.stop()
