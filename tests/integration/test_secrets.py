"""Secrets never reach logs or Sentry, even when a task puts them in its own error."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Service, free_port, start
from tests.support.stack import ADMIN, BROKER_PASSWORD, VIEWER, Stack, running_stack

pytestmark = pytest.mark.integration
OMNITRON_PASSWORD = "omnitron-secret-9"


@pytest.fixture(scope="module")
def sentry() -> Iterator[tuple[Service, Path]]:
    workdir = Path(tempfile.mkdtemp(prefix="cat-sentry-"))
    received = workdir / "events.jsonl"
    port = free_port()
    service = start(
        "sentry",
        [sys.executable, "-m", "tests.support.fake_sentry", str(port), str(received)],
        port=port,
        log_dir=workdir,
    )
    yield service, received
    service.stop()


@pytest.fixture(scope="module")
def sentried_stack(sentry: tuple[Service, Path]) -> Iterator[Stack]:
    service, _ = sentry
    dsn = f"http://public@127.0.0.1:{service.port}/1"
    with running_stack(SENTRY_DSN=dsn, OMNITRON_PASSWORD=OMNITRON_PASSWORD) as stack:
        yield stack


def test_failing_task_reaches_sentry_without_secrets(
    sentried_stack: Stack, sentry: tuple[Service, Path]
) -> None:
    _, received = sentry
    stack = sentried_stack
    reply = httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/tests.leak", json={}, auth=ADMIN
    )
    assert reply.status_code == 200, reply.text
    task = reply.json()["task-id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if received.exists() and b"ValueError" in received.read_bytes():
            break
        time.sleep(0.3)
    events = received.read_bytes() if received.exists() else b""
    assert b"ValueError" in events, stack.logs()
    assert b"[redacted]" in events
    for secret in (OMNITRON_PASSWORD, BROKER_PASSWORD, ADMIN[1], VIEWER[1]):
        assert secret.encode() not in events, secret

    result = httpx.get(f"{stack.web_url}/flower/api/task/result/{task}", auth=ADMIN).json()
    assert result["state"] == "FAILURE"
    logs = "".join(s.output() for s in (stack.worker, stack.flower, stack.web))
    assert "ValueError" in logs
    for secret in (OMNITRON_PASSWORD, BROKER_PASSWORD, ADMIN[1], VIEWER[1]):
        assert secret not in logs, secret


def test_audit_log_names_the_user_not_the_password(sentried_stack: Stack) -> None:
    stack = sentried_stack
    httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/tests.add", json={"args": [1, 2]}, auth=ADMIN
    )
    httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/tests.add", json={"args": [1, 2]}, auth=VIEWER
    )
    time.sleep(0.3)
    web_log = stack.web.output()
    assert "flower change by admin: POST /flower/api/task/async-apply/tests.add" in web_log
    assert "flower change refused by viewer" in web_log
    assert ADMIN[1] not in web_log and VIEWER[1] not in web_log


# --- Task results, Celery events, Flower, status and trigger ------------------------------------


def every_value_in_redis(url: str) -> bytes:
    """Every key and value of every type in the broker/result-backend Redis."""
    import redis

    client = redis.Redis.from_url(url)
    chunks: list[bytes] = []
    try:
        for key in client.scan_iter(count=500):
            chunks.append(key)
            kind = client.type(key)
            if kind == b"string":
                chunks.append(client.get(key) or b"")
            elif kind == b"list":
                chunks += client.lrange(key, 0, -1)
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    chunks += [field, value]
            elif kind == b"set":
                chunks += list(client.smembers(key))
            elif kind == b"zset":
                chunks += client.zrange(key, 0, -1)
    finally:
        client.close()
    return b"\n".join(chunks)


def cli(stack: Stack, *args: str, user: tuple[str, str] = ADMIN) -> tuple[int, str]:
    import subprocess

    from tests.support.processes import REPO_ROOT
    from tests.support.stack import clean_environ

    env = clean_environ()
    env.update(
        CHANNEL_APP_URL=stack.web_url,
        FLOWER_BASIC_AUTH=f"{user[0]}:{user[1]}",
        PYTHONPATH=str(REPO_ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "channel_app_template.cli", *args],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def flower_views(stack: Stack, task_id: str) -> str:
    """What admin and read-only users see of the task in Flower: API and pages."""
    seen = []
    for user in (ADMIN, VIEWER):
        for path in (
            f"api/task/info/{task_id}",
            f"api/task/result/{task_id}",
            "api/tasks?limit=50",
            f"task/{task_id}",
            "tasks/datatable?draw=1&start=0&length=50&search[value]=&order[0][column]=0"
            "&order[0][dir]=desc&columns[0][data]=name",
        ):
            reply = httpx.get(f"{stack.web_url}/flower/{path}", auth=user, timeout=30)
            assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])
            seen.append(reply.text)
    return "\n".join(seen)


def wait_for_state(stack: Stack, task_id: str, states: tuple[str, ...]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = httpx.get(f"{stack.web_url}/flower/api/task/info/{task_id}", auth=ADMIN, timeout=30)
        if info.status_code == 200 and info.json().get("state") in states:
            data: dict[str, object] = info.json()
            return data
        time.sleep(0.3)
    raise TimeoutError(f"task {task_id} never reached {states}\n{stack.logs()}")


SECRETS = (OMNITRON_PASSWORD, BROKER_PASSWORD)


def test_a_failing_task_secret_never_reaches_flower_status_trigger_or_the_backend(
    sentried_stack: Stack,
) -> None:
    stack = sentried_stack
    code, trigger_output = cli(stack, "trigger", "tests.leak", "--wait", "--verbose")
    task_id = next(
        line.split("task id ")[1].strip()
        for line in trigger_output.splitlines()
        if "task id " in line
    )
    info = wait_for_state(stack, task_id, ("FAILURE",))
    _, status_text = cli(stack, "status")
    _, status_json = cli(stack, "status", "--json")
    shown = "\n".join([trigger_output, status_text, status_json, flower_views(stack, task_id)])
    stored = every_value_in_redis(stack.env["BROKER_URL"])
    assert task_id.encode() in stored
    for secret in SECRETS:
        assert secret not in shown, secret
        assert secret.encode() not in stored, secret
    # What was redacted is still there to read, so the check above was not vacuous.
    assert code == 1, trigger_output
    assert "login failed with [redacted]" in trigger_output
    assert "Traceback" in trigger_output
    assert "[redacted]" in str(info.get("exception")), info
    assert "[redacted]" in str(info.get("traceback")), info
    assert "login failed with [redacted]" in status_text


def test_progress_and_results_carry_no_secret(sentried_stack: Stack) -> None:
    stack = sentried_stack
    code, output = cli(stack, "trigger", "tests.progress_leak", "--wait")
    task_id = json.loads(output[output.index("\n{") + 1 :])["task-id"]
    wait_for_state(stack, task_id, ("SUCCESS",))
    shown = flower_views(stack, task_id)
    stored = every_value_in_redis(stack.env["BROKER_URL"])
    assert task_id.encode() in stored
    assert OMNITRON_PASSWORD not in output + shown
    assert OMNITRON_PASSWORD.encode() not in stored
    assert code == 0, output
    assert "finished with [redacted]" in output


# --- Secrets of the channel's own configuration -------------------------------------------------

CHANNEL_KEY = "mk-LeakyKey-31337"
CLIENT_SECRET = "oauth-Secret-4242"


def test_channel_config_secrets_never_leave_the_worker() -> None:
    from tests.support.processes import REPO_ROOT
    from tests.support.sync_stack import PREFIX, sync_stack

    with sync_stack(
        5, CHANNEL_MODULE="tests.support.leaky_channel", PYTHONPATH=str(REPO_ROOT)
    ) as stack:
        stack.client().channel.update(
            {
                "conf": {
                    "remote_id_attribute": "sku",
                    "api_url": stack.market.url,
                    "api_key": CHANNEL_KEY,
                    "oauth": {"client_id": "app-1", "client_secret": CLIENT_SECRET},
                }
            }
        )
        result = stack.celery.send_task(PREFIX + "fetch_orders")
        outcome = result.get(timeout=120, propagate=False)
        meta = stack.celery.backend.get_task_meta(result.id)
        texts = " ".join(map(str, [outcome, meta, result.traceback])) + stack.worker.output()
        stored = every_value_in_redis(stack.env["BROKER_URL"])
        for secret in (CHANNEL_KEY, CLIENT_SECRET):
            assert secret not in texts, (secret, texts[-3000:])
            assert secret.encode() not in stored, secret
        assert "marketplace refused key [redacted]" in str(outcome)  # not vacuous
