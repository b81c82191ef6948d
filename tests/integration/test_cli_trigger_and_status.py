"""``channel-app trigger`` and ``channel-app status`` through the real web proxy and Flower.

Most tests use the session ``stack`` (test Celery app with ``tests.fail``/``tests.sleep``);
the progress test runs the real ``insert_and_update_products`` on a sync stack (Omnitron
simulator with added latency, reference marketplace) behind its own Flower and web process.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.processes import REPO_ROOT
from tests.support.stack import (
    ADMIN,
    BROKER_PASSWORD,
    VIEWER,
    Stack,
    clean_environ,
    start_flower,
    start_web,
)
from tests.support.sync_stack import SyncStack, sync_stack

pytestmark = pytest.mark.integration


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def summary(self) -> dict[str, Any]:
        """The JSON object printed last on stdout."""
        start = self.out.index("\n{") + 1 if not self.out.startswith("{") else 0
        parsed: dict[str, Any] = json.loads(self.out[start:])
        return parsed


def cli_env(url: str, user: tuple[str, str] | None = ADMIN, **extra: str) -> dict[str, str]:
    """An operator's shell: where the web process is, and who they are; nothing else of ours."""
    env = clean_environ()
    env.update({"CHANNEL_APP_URL": url, "PYTHONPATH": str(REPO_ROOT), **extra})
    if user is not None:
        env["FLOWER_BASIC_AUTH"] = f"{user[0]}:{user[1]}"
    return env


def cli(env: Mapping[str, str], *args: str, timeout: float = 60) -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "channel_app_template.cli", *args],
        env=dict(env),
        cwd="/",  # no stray .env
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


# --- trigger on the test stack ----------------------------------------------------------------


def test_trigger_ping_wait_prints_the_summary(stack: Stack) -> None:
    ran = cli(cli_env(stack.web_url), "trigger", "ping", "--wait", "--timeout", "30")
    assert ran.code == 0, ran
    summary = ran.summary()
    assert summary["task"] == "channel_app_template.app.tasks.ping"
    assert summary["state"] == "SUCCESS"
    assert summary["result"]["pong"] is True
    assert ran.out.startswith(
        f"sent channel_app_template.app.tasks.ping: task id {summary['task-id']}"
    )


def test_trigger_without_wait_prints_only_the_id_and_full_names_work(stack: Stack) -> None:
    env = cli_env(stack.web_url)
    ran = cli(env, "trigger", "tests.add", "--args", "[2, 3]", "--kwargs", "{}")
    assert ran.code == 0, ran
    task_id = ran.out.strip()
    assert len(task_id) == 36 and task_id.count("-") == 4
    with urllib.request.urlopen(
        _authorized(f"{stack.web_url}/flower/api/task/result/{task_id}?timeout=10")
    ) as response:
        assert json.load(response)["result"] == 5


def _authorized(url: str) -> urllib.request.Request:
    import base64

    request = urllib.request.Request(url)
    token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    return request


def test_failing_task_exits_non_zero_with_the_error_not_the_traceback(stack: Stack) -> None:
    env = cli_env(stack.web_url)
    ran = cli(env, "trigger", "tests.fail", "--wait", "--timeout", "30")
    assert ran.code == 1, ran
    assert "error: tests.fail ended FAILURE: ValueError('boom')" in ran.err
    assert "Traceback" not in ran.err + ran.out
    assert ran.summary()["state"] == "FAILURE"

    verbose = cli(env, "trigger", "tests.fail", "--wait", "--verbose")
    assert verbose.code == 1
    assert "Traceback (most recent call last)" in verbose.err


def test_read_only_user_gets_a_clear_403(stack: Stack) -> None:
    env = cli_env(stack.web_url, user=None)
    ran = cli(env, "trigger", "ping", "--user", VIEWER[0], "--password", VIEWER[1])
    assert ran.code == 2, ran
    assert "user 'viewer' is read-only (403)" in ran.err
    assert "needs a full-access user from FLOWER_BASIC_AUTH" in ran.err
    assert VIEWER[1] not in ran.err + ran.out

    # reading is allowed to read-only users
    env["CHANNEL_APP_USER"], env["CHANNEL_APP_PASSWORD"] = VIEWER
    assert cli(env, "status").code == 0


def test_wrong_password_unknown_task_and_nothing_listening(stack: Stack) -> None:
    env = cli_env(stack.web_url, user=("admin", "not-the-password"))
    ran = cli(env, "trigger", "ping")
    assert ran.code == 2
    assert "refused user 'admin' (401)" in ran.err
    assert "not-the-password" not in ran.err + ran.out

    ran = cli(cli_env(stack.web_url), "trigger", "no_such_task")
    assert ran.code == 2
    assert "knows no task 'channel_app_template.app.tasks.no_such_task'" in ran.err
    assert f"Flower at {stack.web_url}/flower/" in ran.err  # which app said so

    ran = cli(cli_env(stack.web_url), "trigger", "ping", "--args", "{}")
    assert ran.code == 2
    assert "--args must be a JSON list" in ran.err

    ran = cli(cli_env("http://127.0.0.1:9"), "trigger", "ping")
    assert ran.code == 2
    assert "cannot reach the web process at http://127.0.0.1:9" in ran.err


def test_tty_progress_is_one_updating_line(stack: Stack) -> None:
    env = {**os.environ, **cli_env(stack.web_url)}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "channel_app_template.cli",
            "trigger",
            "tests.sleep",
            "--args",
            "[1.5]",
            "--wait",
            "--interval",
            "0.1",
        ],
        env=env,
        cwd="/",
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert process.wait(30) == 0
    screen = b"".join(chunks).decode()
    progress = screen.split("\n")[1]  # after the "sent ..." line
    assert progress.count("\r\x1b[K") >= 5  # redrawn in place, many times
    assert "tests.sleep: STARTED" in progress
    assert '"state": "SUCCESS"' in screen


# --- status -----------------------------------------------------------------------------------


def test_status_lists_the_worker_and_a_recent_failure(stack: Stack) -> None:
    env = cli_env(stack.web_url)
    sent = cli(env, "trigger", "tests.fail", "--wait")
    assert sent.code == 1
    failed_id = sent.summary()["task-id"]
    deadline = time.monotonic() + 20
    while True:  # Flower learns of the failure from worker events, a moment later
        ran = cli(env, "status", "--json")
        assert ran.code == 0, ran
        data = json.loads(ran.out)
        ids = [f["id"] for f in data["failures"]]
        if failed_id in ids or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert failed_id in ids, data
    worker = next(w for w in data["workers"] if w["name"].startswith("w1@"))
    assert worker["online"] is True
    failure = data["failures"][0]
    assert failure["task"] == "tests.fail"
    assert failure["exception"] == "ValueError('boom')"
    whens = [f["when"] for f in data["failures"]]
    assert whens == sorted(whens, reverse=True)  # newest first

    table = cli(env, "status")
    assert table.code == 0
    assert "1 of 1 worker(s) online" in table.out
    assert "w1@" in table.out and "online" in table.out
    assert "Recent failures, newest first" in table.out
    assert failed_id in table.out and "ValueError('boom')" in table.out
    assert BROKER_PASSWORD not in table.out + ran.out


def test_status_shows_an_active_task(stack: Stack) -> None:
    env = cli_env(stack.web_url)
    # Long enough to be seen on a loaded machine (one status call takes seconds: Flower
    # inspects the workers); revoked once seen, so it does not hold a worker slot.
    sent = cli(env, "trigger", "tests.sleep", "--args", "[120]")
    task_id = sent.out.strip()
    deadline = time.monotonic() + 90
    data: dict[str, Any] = {}
    try:
        while time.monotonic() < deadline:
            data = json.loads(cli(env, "status", "--json").out)
            if any(t["id"] == task_id for t in data["active"]):
                break
            time.sleep(0.3)
    finally:
        revoke = _authorized(f"{stack.web_url}/flower/api/task/revoke/{task_id}?terminate=true")
        revoke.method = "POST"
        urllib.request.urlopen(revoke, timeout=30).close()
    active = next(t for t in data["active"] if t["id"] == task_id)
    assert active["task"] == "tests.sleep"
    assert active["worker"].startswith("w1@")
    assert next(w for w in data["workers"] if w["name"] == active["worker"])["active"] >= 1


# --- progress of a real long task ---------------------------------------------------------------


@pytest.fixture(scope="module")
def synced() -> Iterator[tuple[SyncStack, str]]:
    with sync_stack(products=300) as sync:
        env = {
            **sync.env,
            "FLOWER_BASIC_AUTH": f"{ADMIN[0]}:{ADMIN[1]}",
            "FLOWER_READONLY_AUTH": f"{VIEWER[0]}:{VIEWER[1]}",
            "PYTHONPATH": str(REPO_ROOT),
        }
        flower = start_flower(env, sync.workdir)
        env["FLOWER_URL"] = f"http://127.0.0.1:{flower.port}"
        web = start_web(env, sync.workdir)
        try:
            yield sync, f"http://127.0.0.1:{web.port}"
        finally:
            web.stop()
            flower.stop()


def test_long_task_shows_progress_then_its_summary(synced: tuple[SyncStack, str]) -> None:
    sync, url = synced
    # Slow Omnitron down so that the run takes a few seconds and reports PROGRESS.
    status, _ = sync.omnitron.call("POST", "/_sandbox/faults/", {"latency_ms": 60})
    assert status == 200
    ran = cli(
        cli_env(url),
        "trigger",
        "insert_and_update_products",
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "60",
    )
    assert ran.code == 0, ran
    lines = ran.out.splitlines()
    assert lines[0].startswith("sent channel_app_template.app.tasks.insert_and_update_products")
    shown = [line for line in lines if line.startswith("insert_and_update_products: ")]
    # one plain line per change (not a TTY), PROGRESS among them, in order
    assert any(line.startswith("insert_and_update_products: PROGRESS") for line in shown), ran
    # the counts come through Flower too (from the task-progress events)
    assert any("PROGRESS" in line and "/300" in line for line in shown), shown
    assert shown[-1].startswith("insert_and_update_products: SUCCESS")
    assert len(shown) == len({line.split(" (")[0] for line in shown})
    summary = ran.summary()
    assert summary["state"] == "SUCCESS"
    inserts = summary["result"]["runs"][0]
    assert inserts["kind"] == "inserts" and inserts["sent"] == 300
