"""Tasks triggered and read through the public proxy, against real Flower and a worker."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.stack import ADMIN, VIEWER, Stack

pytestmark = pytest.mark.integration


def wait_result(stack: Stack, task_id: str, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.web_url}/flower/api/task/result/{task_id}", auth=ADMIN)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        if body["state"] in ("SUCCESS", "FAILURE"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish\n{stack.logs()}")


def test_async_apply_then_result_through_proxy(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/channel_app_template.app.tasks.ping",
        json={},
        auth=ADMIN,
    )
    assert response.status_code == 200, response.text
    task_id = response.json()["task-id"]
    result = wait_result(stack, task_id)
    assert result["state"] == "SUCCESS"
    assert isinstance(result["result"], dict) and result["result"]["pong"] is True


def test_apply_with_args_returns_value(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.web_url}/flower/api/task/apply/tests.add",
        json={"args": [2, 3]},
        auth=ADMIN,
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()["result"] == 5


def test_read_only_user_reads_but_cannot_trigger(stack: Stack) -> None:
    url = f"{stack.web_url}/flower/api/task/async-apply/tests.add"
    denied = httpx.post(url, json={"args": [1, 1]}, auth=VIEWER)
    assert denied.status_code == 403
    workers = httpx.get(f"{stack.web_url}/flower/api/workers?status=1", auth=VIEWER)
    assert workers.status_code == 200 and any(workers.json().values())
