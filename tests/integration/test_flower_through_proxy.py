"""Tasks triggered and read through the public proxy, against real Flower and a worker."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.http import basic, request
from tests.support.processes import Service
from tests.support.stack import ADMIN, VIEWER, Stack, start_web

pytestmark = pytest.mark.integration

PING = "channel_app_template.app.tasks.ping"


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


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition never held")


def waits(base: str) -> dict[str, int]:
    summary: dict[str, int] = httpx.get(f"{base}/health", auth=ADMIN, timeout=10).json()["waits"]
    return summary


@pytest.fixture(scope="module")
def capped_web(stack: Stack) -> Iterator[Service]:
    """A second web process in front of the stack's Flower, with a 2 s wait cap."""
    service = start_web({**stack.env, "PROXY_MAX_WAIT": "2"}, stack.workdir)
    yield service
    service.stop()


def test_async_apply_then_result_through_proxy(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/{PING}", json={}, auth=ADMIN
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


# --- The incumbent's trigger scripts: Flower's API at the app's root ---------------------


def curl(*args: str) -> tuple[int, str]:
    """Plain curl as the incumbent's docs use it: no -L, so a redirect would be the end."""
    done = subprocess.run(
        ["curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, code = done.stdout.rpartition("\n")
    return int(code), body


def test_incumbent_trigger_script_works_unchanged_at_the_root(stack: Stack) -> None:
    user = f"{ADMIN[0]}:{ADMIN[1]}"
    status, body = curl(
        "-u",
        user,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"args": []}',
        f"{stack.web_url}/api/task/apply/{PING}",
    )
    assert status == 200, body
    applied = json.loads(body)
    assert applied["state"] == "SUCCESS"
    assert applied["result"]["pong"] is True
    task_id = applied["task-id"]
    status, body = curl("-u", user, f"{stack.web_url}/api/task/result/{task_id}")
    assert status == 200 and json.loads(body)["state"] == "SUCCESS"
    status, body = curl(
        "-u", user, "-X", "POST", "-d", "{}", f"{stack.web_url}/api/task/async-apply/{PING}"
    )
    assert status == 200 and "task-id" in json.loads(body)
    wait_until(lambda: curl("-u", user, f"{stack.web_url}/api/task/info/{task_id}")[0] == 200)
    status, body = curl("-u", user, f"{stack.web_url}/api/workers?status=1")
    assert status == 200 and any(json.loads(body).values())


def test_the_root_api_has_the_same_rules_as_flower_api(stack: Stack) -> None:
    assert stack.web.port is not None
    port = stack.web.port
    anonymous = request(port, "POST", f"/api/task/async-apply/{PING}", [], b"{}")
    assert anonymous.status == 401
    assert (anonymous.one("www-authenticate") or "").startswith("Basic realm=")
    viewer = [("Authorization", basic(*VIEWER))]
    assert request(port, "POST", f"/api/task/apply/{PING}", viewer, b"{}").status == 403
    assert request(port, "GET", "/api/workers?status=1", viewer).status == 200
    admin = [("Authorization", basic(*ADMIN))]
    escape = request(port, "POST", "/api/task/async-apply/../../worker/shutdown/w1", admin, b"{}")
    assert escape.status == 400
    # Only Flower's API is served at the root, not its pages or metrics.
    assert request(port, "GET", "/metrics", admin).status == 404
    assert request(port, "GET", "/workers", admin).status == 404


# --- Waits: nobody holds Flower's few blocking slots -------------------------------------


def test_apply_answers_like_flowers_apply(stack: Stack) -> None:
    base = f"{stack.web_url}/flower/api/task/apply"
    failed = httpx.post(f"{base}/tests.fail", json={}, auth=ADMIN, timeout=30).json()
    assert failed["state"] == "FAILURE"
    assert failed["result"] == "ValueError('boom')"
    assert "Traceback" in failed["traceback"]
    assert list(failed) == ["task-id", "result", "traceback", "state"]
    unknown = httpx.post(f"{base}/tests.nope", json={}, auth=ADMIN, timeout=30)
    assert unknown.status_code == 404 and "Unknown task" in unknown.text
    bad_body = httpx.post(f"{base}/tests.add", content=b"[1, 2]", auth=ADMIN, timeout=30)
    assert bad_body.status_code == 400
    bad_timeout = httpx.post(f"{base}/tests.add", json={"timeout": "soon"}, auth=ADMIN)
    assert bad_timeout.status_code == 400
    early = httpx.post(
        f"{base}/tests.sleep", json={"args": [5], "timeout": 0.5}, auth=ADMIN, timeout=30
    ).json()
    assert early["state"] in ("PENDING", "STARTED") and "result" not in early


def test_waits_are_capped_whatever_the_client_asks(stack: Stack, capped_web: Service) -> None:
    base = f"http://127.0.0.1:{capped_web.port}"
    started = time.monotonic()
    pending = httpx.get(
        f"{base}/flower/api/task/result/{uuid.uuid4()}?timeout=1e9", auth=VIEWER, timeout=60
    )
    assert pending.status_code == 200
    assert pending.json()["state"] == "PENDING"
    applied = httpx.post(
        f"{base}/flower/api/task/apply/tests.sleep", json={"args": [8]}, auth=ADMIN, timeout=60
    )
    assert applied.json()["state"] in ("PENDING", "STARTED")
    assert time.monotonic() - started < 30  # two 2 s caps, however loaded the machine is
    fast = httpx.post(
        f"{base}/flower/api/task/async-apply/tests.sleep", json={"args": [1]}, auth=ADMIN
    ).json()["task-id"]
    done = httpx.get(f"{base}/flower/api/task/result/{fast}?timeout=10", auth=ADMIN, timeout=60)
    assert done.json()["state"] == "SUCCESS"  # ready before the cap: answered when ready


async def flood_and_trigger(base: str) -> tuple[list[float], list[int]]:
    """A read-only user floods long polls and worker inspections; the operator triggers."""
    flood_statuses: list[int] = []
    limits = httpx.Limits(max_connections=200)
    async with (
        httpx.AsyncClient(auth=VIEWER, timeout=120, limits=limits) as viewer,
        httpx.AsyncClient(auth=ADMIN, timeout=60) as operator,
    ):

        async def hold(url: str) -> None:
            response = await viewer.get(url)
            flood_statuses.append(response.status_code)

        urls = [f"{base}/flower/api/task/result/{uuid.uuid4()}?timeout=40" for _ in range(12)]
        urls += [f"{base}/api/task/result/{uuid.uuid4()}?timeout=1e9" for _ in range(6)]
        urls += [f"{base}/flower/worker/nobody-{n}@nowhere" for n in range(12)]
        urls += [f"{base}/flower/api/workers?refresh=1&workername=x{n}" for n in range(6)]
        flood = [asyncio.ensure_future(hold(url)) for url in urls]
        await asyncio.to_thread(wait_until, lambda: waits(base)["waiting"] >= 4)
        took = []
        for _ in range(5):
            started = time.perf_counter()
            reply = await operator.post(
                f"{base}/flower/api/task/async-apply/tests.add", json={"args": [1, 2]}
            )
            took.append(time.perf_counter() - started)
            assert reply.status_code == 200, reply.text
        still_holding = sum(1 for task in flood if not task.done())
        assert still_holding >= 4  # the flood was still on while the operator triggered
        for task in flood:
            task.cancel()
        await asyncio.gather(*flood, return_exceptions=True)
    return took, flood_statuses


def test_a_read_only_flood_does_not_slow_an_operators_trigger(stack: Stack) -> None:
    took, statuses = asyncio.run(flood_and_trigger(stack.web_url))
    assert max(took) < 1.0, took
    assert statuses.count(429) == 14  # 18 long polls asked for, four held at a time
    assert statuses.count(404) == 18  # inspections of workers that do not exist
    wait_until(lambda: waits(stack.web_url)["waiting"] == 0)  # the proxy noticed they left


def test_a_client_that_leaves_stops_its_wait(stack: Stack) -> None:
    assert stack.web.port is not None
    with socket.create_connection(("127.0.0.1", stack.web.port), timeout=10) as sock:
        sock.sendall(
            f"GET /flower/api/task/result/{uuid.uuid4()}?timeout=1e9 HTTP/1.1\r\n"
            f"Host: x\r\nAuthorization: {basic(*VIEWER)}\r\n\r\n".encode()
        )
        wait_until(lambda: waits(stack.web_url)["waiting"] == 1)
    wait_until(lambda: waits(stack.web_url)["waiting"] == 0)


def test_worker_pages_are_inspected_only_for_online_workers(stack: Stack) -> None:
    online = httpx.get(f"{stack.web_url}/flower/api/workers?status=1", auth=VIEWER).json()
    name = next(n for n, up in online.items() if up)
    assert httpx.get(f"{stack.web_url}/flower/worker/{name}", auth=VIEWER).status_code == 200
    started = time.monotonic()
    missing = httpx.get(f"{stack.web_url}/flower/worker/nobody@nowhere", auth=VIEWER)
    assert missing.status_code == 404 and "Unknown or offline worker" in missing.text
    assert time.monotonic() - started < 5


def test_a_get_with_a_body_is_refused(stack: Stack) -> None:
    """Flower reads form bodies as arguments; a body could smuggle a timeout."""
    assert stack.web.port is not None
    reply = request(
        stack.web.port,
        "GET",
        f"/flower/api/task/result/{uuid.uuid4()}",
        [("Authorization", basic(*VIEWER)), ("Content-Type", "application/x-www-form-urlencoded")],
        b"timeout=1e9",
    )
    assert reply.status == 400
