"""Logs a pipeline can read, from the real processes: with ``LOG_FORMAT=json`` every line
of the worker, beat, Flower and web is one JSON object; a task's lines carry its name and
id, engine lines their ``extra`` fields; chatty libraries stay quiet; secrets never show."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.processes import Service, start
from tests.support.stack import ADMIN, Stack, running_stack

pytestmark = pytest.mark.integration
OMNITRON_PASSWORD = "omni-log-secret-77"


def start_beat(stack: Stack) -> Service:
    return start(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.support.celery_testapp",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(stack.workdir / "beat-schedule"),
        ],
        env=stack.env,
        cwd=stack.workdir,
        log_dir=stack.workdir,
    )


@pytest.fixture(scope="module")
def json_stack() -> Iterator[tuple[Stack, Service]]:
    with running_stack(LOG_FORMAT="json", OMNITRON_PASSWORD=OMNITRON_PASSWORD) as stack:
        beat = start_beat(stack)
        try:
            yield stack, beat
        finally:
            beat.stop()


def run_task(stack: Stack, name: str) -> str:
    sent = httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/{name}", json={}, auth=ADMIN, timeout=30
    )
    assert sent.status_code == 200, sent.text
    task_id: str = sent.json()["task-id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = httpx.get(
            f"{stack.web_url}/flower/api/task/result/{task_id}", auth=ADMIN, timeout=30
        ).json()["state"]
        if state in ("SUCCESS", "FAILURE"):
            return task_id
        time.sleep(0.3)
    raise TimeoutError(f"{name} did not finish\n{stack.logs()}")


def wait_for_line(service: Service, needle: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in service.output():
            return
        time.sleep(0.3)
    raise TimeoutError(f"{needle!r} never logged by {service.name}:\n{service.output()[-3000:]}")


def records(service: Service) -> list[dict[str, Any]]:
    """Every non-empty line of the process's output, each parsed as one JSON object."""
    parsed = []
    for line in service.output().splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{service.name} wrote a line that is not JSON: {line!r}")
    return parsed


def test_every_process_writes_one_json_object_per_line(json_stack: tuple[Stack, Service]) -> None:
    stack, beat = json_stack
    task_id = run_task(stack, "tests.log_lines")
    httpx.get(f"{stack.web_url}/flower/api/workers", auth=("admin", "wrong-password-1"))
    wait_for_line(stack.worker, "succeeded")
    wait_for_line(beat, "beat: Starting")
    wait_for_line(stack.web, "Uvicorn running")
    for service in (stack.worker, beat, stack.flower, stack.web):
        lines = records(service)
        assert lines, service.name
        for line in lines:
            assert {"time", "level", "logger", "message"} <= set(line), line

    worker = records(stack.worker)
    of_task = [r for r in worker if r.get("task_id") == task_id]
    messages = {r["message"] for r in of_task}
    assert {"engine line", "task logger line", "careless line"} <= messages, of_task
    assert all(r["task_name"] == "tests.log_lines" for r in of_task)
    engine = next(r for r in of_task if r["message"] == "engine line")
    assert (engine["flow"], engine["batch_id"], engine["counts"]) == (
        "products",
        7,
        {"sent": 3, "failed": 1},
    )
    careless = next(r for r in of_task if r["message"] == "careless line")
    assert careless["note"] == "[redacted]"
    # Third-party chatter (one INFO line per HTTP call) stays out at the default level.
    assert not [r for r in worker if r["logger"].startswith(("urllib3", "httpx"))]
    everything = "".join(s.output() for s in (stack.worker, beat, stack.flower, stack.web))
    assert OMNITRON_PASSWORD not in everything


def test_text_lines_of_a_task_carry_its_name_and_id(stack: Stack) -> None:
    task_id = run_task(stack, "tests.log_lines")
    marker = f"tests.log_lines[{task_id}]"
    wait_for_line(stack.worker, f"{marker}: Task tests.log_lines")  # Celery's own, last
    lines = [line for line in stack.worker.output().splitlines() if task_id in line]
    engine = next(line for line in lines if "engine line" in line)
    assert f"channel_app_template.flows: {marker}: engine line" in engine
    assert "flow=products batch_id=7 counts={" in engine
    assert any(f"{marker}: task logger line" in line for line in lines)
    assert not any("Starting new HTTP connection" in line for line in lines)
