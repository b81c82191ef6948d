"""Password guessing against a real web process: throttled, logged, counted, and the
operator still gets in from another address."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, start
from tests.support.stack import ADMIN, app_env, start_web

pytestmark = pytest.mark.integration


def client(source: str) -> httpx.Client:
    """A client whose connections come from ``source`` (any 127.x address on loopback)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10)


def test_the_21st_wrong_password_in_a_minute_gets_429_and_the_operator_gets_in() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cat-login-"))
    upstream_port = free_port()
    upstream = start(
        "upstream",
        [sys.executable, "-m", "tests.support.fake_upstream", str(upstream_port)],
        port=upstream_port,
        log_dir=workdir,
    )
    env = app_env("redis://127.0.0.1:9/0", FLOWER_URL=f"http://127.0.0.1:{upstream_port}")
    web = start_web(env, workdir)
    base = f"http://127.0.0.1:{web.port}"
    try:
        with client("127.0.0.1") as attacker, client("127.0.0.2") as operator:
            statuses = [
                attacker.get(f"{base}/flower/echo", auth=(ADMIN[0], f"guess-{n}")).status_code
                for n in range(20)
            ]
            assert statuses == [401] * 20
            refused = attacker.get(f"{base}/flower/echo", auth=(ADMIN[0], "guess-20"))
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            # Throttled through /health too, the other door that checks passwords.
            assert attacker.get(f"{base}/health", auth=ADMIN).status_code == 429
            assert operator.get(f"{base}/flower/echo", auth=ADMIN).status_code == 200
            details = operator.get(f"{base}/health", auth=ADMIN).json()
            assert details["logins"]["failed"] == 20
            assert details["logins"]["throttled"] == 2
            assert details["logins"]["locked_addresses"] == 1
        deadline = time.monotonic() + 10
        while web.output().count("login failed") < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        log = web.output()
        assert log.count(f"login failed: user '{ADMIN[0]}' from 127.0.0.1") == 20
        assert "address locked" in log
        assert "guess-" not in log
    finally:
        web.stop()
        upstream.stop()
