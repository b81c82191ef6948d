"""Secrets never reach logs or Sentry, even when a task puts them in its own error."""

from __future__ import annotations

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
