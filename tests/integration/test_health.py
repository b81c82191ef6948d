"""Liveness and readiness of the web process, against real stacks and a broken one."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port
from tests.support.stack import (
    ADMIN,
    VIEWER,
    Stack,
    app_env,
    running_stack,
    start_web,
    start_worker,
)

pytestmark = pytest.mark.integration


def wait_for_health(
    url: str, condition: Any, timeout: float = 60.0, auth: tuple[str, str] = ADMIN
) -> dict[str, Any]:
    """Poll ``/health`` (with details) until ``condition(body)`` holds."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/health", auth=auth, timeout=10).json()
        if condition(body):
            return body
        time.sleep(0.3)
    raise AssertionError(f"/health never satisfied the condition; last: {body}")


def all_up(body: dict[str, Any]) -> bool:
    return body.get("status") == "ok"


def test_healthz_is_cheap_and_public(stack: Stack) -> None:
    response = httpx.get(f"{stack.web_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_without_credentials_says_only_the_status(stack: Stack) -> None:
    wait_for_health(stack.web_url, all_up)
    response = httpx.get(f"{stack.web_url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_details_need_valid_credentials(stack: Stack) -> None:
    body = wait_for_health(stack.web_url, all_up)
    checks = body["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "broker": True,
        "workers": True,
        "flower": True,
    }
    assert checks["workers"]["workers"] == 1
    assert checks["workers"]["duplicate_nodes"] == []
    assert body["warnings"] == []
    assert {"failed", "throttled"} <= set(body["logins"])
    viewer = httpx.get(f"{stack.web_url}/health", auth=VIEWER, timeout=10)
    assert viewer.status_code == 200 and "checks" in viewer.json()
    wrong = httpx.get(f"{stack.web_url}/health", auth=(ADMIN[0], "wrong-password"), timeout=10)
    assert wrong.status_code == 401
    assert "checks" not in wrong.json()
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    for response in (viewer, wrong):
        assert ADMIN[1] not in response.text and VIEWER[1] not in response.text


def test_health_notices_two_workers_with_one_node_name(stack: Stack) -> None:
    twin = start_worker(stack.env, stack.workdir, name="w1")  # the stack's worker is w1 too
    try:
        body = wait_for_health(
            stack.web_url, lambda b: b.get("checks", {}).get("workers", {}).get("duplicate_nodes")
        )
    finally:
        twin.stop()
    duplicates = body["checks"]["workers"]["duplicate_nodes"]
    assert len(duplicates) == 1 and duplicates[0].startswith("w1@")
    assert body["checks"]["workers"]["workers"] == 2
    assert any(duplicates[0] in warning for warning in body["warnings"])


async def concurrent_health(url: str, calls: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=calls)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        return await asyncio.gather(*(client.get(f"{url}/health") for _ in range(calls)))


def test_health_answers_from_the_cached_probe_while_the_broker_is_gone() -> None:
    """No broker or worker round trip per call: with the broker killed, 150 concurrent
    calls still get the last probe's answer, and no new probe ran for them."""
    with running_stack(HEALTH_INTERVAL="3600") as stack:
        first = wait_for_health(stack.web_url, all_up)
        assert first["probe"]["probes"] >= 1
        stack.redis.stop()
        replies = asyncio.run(concurrent_health(stack.web_url, 150))
        assert [r.status_code for r in replies] == [200] * 150
        assert {r.text for r in replies} == {'{"status":"ok"}'}
        after = httpx.get(f"{stack.web_url}/health", auth=ADMIN, timeout=10).json()
        assert after["probe"]["probes"] == first["probe"]["probes"]


def test_health_probe_refreshes_in_the_background() -> None:
    with running_stack(HEALTH_INTERVAL="1", HEALTH_TIMEOUT="0.5") as stack:
        wait_for_health(stack.web_url, all_up)
        stack.worker.stop()
        body = wait_for_health(
            stack.web_url, lambda b: not b["checks"]["workers"]["ok"], timeout=60
        )
        assert body["status"] == "unavailable"
        assert body["checks"]["workers"]["error"] == "no worker answered a ping"
        anonymous = httpx.get(f"{stack.web_url}/health", timeout=10)
        assert anonymous.status_code == 503 and anonymous.json() == {"status": "unavailable"}


def test_health_is_503_and_names_what_is_down() -> None:
    broker = f"redis://:broker-secret-1@127.0.0.1:{free_port()}/0"
    env = app_env(broker, FLOWER_URL=f"http://127.0.0.1:{free_port()}", HEALTH_TIMEOUT="0.5")
    web = start_web(env, Path(tempfile.mkdtemp()))
    try:
        url = f"http://127.0.0.1:{web.port}"
        body = wait_for_health(url, lambda b: "checks" in b)
        assert body["status"] == "unavailable"
        assert not any(check["ok"] for check in body["checks"].values())
        response = httpx.get(f"{url}/health", auth=ADMIN, timeout=10)
        assert response.status_code == 503
        assert "broker-secret-1" not in response.text
        assert "127.0.0.1" not in response.text
    finally:
        web.stop()
