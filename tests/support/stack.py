"""The four Procfile processes for real: private Redis, Celery worker, Flower, web."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from channel_app_template.settings import Settings
from tests.support.processes import (
    REPO_ROOT,
    Service,
    free_port,
    procfile_command,
    redis_server,
    start,
)

ADMIN = ("admin", "admin-secret-1")
BROKER_PASSWORD = "broker-secret-1"
VIEWER = ("viewer", "viewer-secret-1")
TEST_CELERY_APP = "tests.support.celery_testapp"


def clean_environ() -> dict[str, str]:
    """The test runner's environment without any setting of ours, so a developer's own
    ``BROKER_URL`` or ``SENTRY_DSN`` never leaks into a test process."""
    ours = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in ours}


def app_env(broker_url: str, **extra: str) -> dict[str, str]:
    env = clean_environ()
    env.update(
        {
            "BROKER_URL": broker_url,
            "FLOWER_BASIC_AUTH": f"{ADMIN[0]}:{ADMIN[1]}",
            "FLOWER_READONLY_AUTH": f"{VIEWER[0]}:{VIEWER[1]}",
            "OMNITRON_URL": "http://127.0.0.1:9",
            "OMNITRON_USERNAME": "sandbox",
            "OMNITRON_PASSWORD": "sandbox",
            "OMNITRON_CHANNEL_ID": "1",
            "OMNITRON_CATALOG_ID": "1",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Stack:
    redis: Service
    worker: Service
    flower: Service
    web: Service
    env: dict[str, str]
    workdir: Path

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web.port}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.flower.port}"

    def logs(self) -> str:
        return "\n".join(
            f"--- {s.name} ---\n{s.output()[-3000:]}" for s in (self.worker, self.flower, self.web)
        )


def procfile_web_argv(port: int) -> list[str]:
    """The Procfile's ``web`` line as an argv for this interpreter, bound to loopback."""
    command = procfile_command("web")
    words = command.replace("${WEB_HOST:-0.0.0.0}", "127.0.0.1")
    words = words.replace("${WEB_PORT:-8008}", str(port))
    argv = words.split()
    if argv[0] != "uvicorn" or "$" in words:
        raise RuntimeError(f"unexpected Procfile web line: {command!r}")
    return [sys.executable, "-m", *argv]


def start_web(env: Mapping[str, str], workdir: Path, port: int | None = None) -> Service:
    """The web process as the Procfile runs it (its HTTP protocol and flags included)."""
    port = port or free_port()
    return start(
        "web",
        procfile_web_argv(port),
        env=dict(env),
        port=port,
        cwd=workdir,
        log_dir=workdir,
    )


def start_flower(env: Mapping[str, str], workdir: Path) -> Service:
    port = free_port()
    return start(
        "flower",
        [
            sys.executable,
            "-m",
            "channel_app_template.cli",
            "flower",
            "--app",
            TEST_CELERY_APP,
            "--address",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=dict(env),
        port=port,
        cwd=workdir,
        log_dir=workdir,
    )


def start_worker(env: Mapping[str, str], workdir: Path, name: str = "w1") -> Service:
    return start(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            TEST_CELERY_APP,
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
        ],
        env=dict(env),
        cwd=workdir,
        log_dir=workdir,
    )


def wait_for_worker(stack: Stack, timeout: float = 40.0) -> None:
    """Until Flower, through the proxy, lists the worker as online."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(
                f"{stack.web_url}/flower/api/workers?status=1", auth=ADMIN, timeout=5
            )
            if response.status_code == 200 and any(response.json().values()):
                return
        time.sleep(0.3)
    raise TimeoutError(f"worker never came online\n{stack.logs()}")


@contextlib.contextmanager
def running_stack(**extra_env: str) -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="cat-stack-"))
    with redis_server(password=BROKER_PASSWORD) as redis:
        env = app_env(f"redis://:{BROKER_PASSWORD}@127.0.0.1:{redis.port}/0", **extra_env)
        worker = start_worker(env, workdir)
        flower = start_flower(env, workdir)
        env["FLOWER_URL"] = f"http://127.0.0.1:{flower.port}"
        web = start_web(env, workdir)
        stack = Stack(redis, worker, flower, web, env, workdir)
        try:
            wait_for_worker(stack)
            yield stack
        finally:
            for service in (web, flower, worker):
                service.stop()
