"""Liveness and readiness of the web process, against the real stack and a broken one."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port
from tests.support.stack import ADMIN, Stack, app_env, start_web

pytestmark = pytest.mark.integration


def test_healthz_is_cheap_and_public(stack: Stack) -> None:
    response = httpx.get(f"{stack.web_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_reports_every_dependency_up(stack: Stack) -> None:
    response = httpx.get(f"{stack.web_url}/health", timeout=10)
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "broker": True,
        "workers": True,
        "flower": True,
    }
    assert checks["workers"]["workers"] == 1
    assert ADMIN[1] not in response.text


def test_health_is_503_and_names_what_is_down() -> None:
    broker = f"redis://:broker-secret-1@127.0.0.1:{free_port()}/0"
    env = app_env(broker, FLOWER_URL=f"http://127.0.0.1:{free_port()}", HEALTH_TIMEOUT="0.5")
    web = start_web(env, Path(tempfile.mkdtemp()))
    try:
        response = httpx.get(f"http://127.0.0.1:{web.port}/health", timeout=10)
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert not any(check["ok"] for check in checks.values())
        assert "broker-secret-1" not in response.text
        assert "127.0.0.1" not in response.text
    finally:
        web.stop()
