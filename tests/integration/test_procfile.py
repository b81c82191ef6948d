"""The Procfile, run the way README.rst says (``honcho start``), serves the whole loop:
a task triggered through the web proxy runs on the worker and its result is readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest
from celery import Celery

from tests.support.deploy import stop_group
from tests.support.processes import REPO_ROOT, free_port, redis_server, wait_for_port
from tests.support.stack import ADMIN, clean_environ

pytestmark = pytest.mark.integration


def test_honcho_start_runs_all_four_processes() -> None:
    web_port, flower_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cat-honcho-"))
    with redis_server() as redis:
        env_file = workdir / ".env"
        env_file.write_text(
            "\n".join(
                [
                    f"BROKER_URL=redis://127.0.0.1:{redis.port}/0",
                    f"FLOWER_BASIC_AUTH={ADMIN[0]}:{ADMIN[1]}",
                    "OMNITRON_URL=http://127.0.0.1:9",
                    "OMNITRON_USERNAME=sandbox",
                    "OMNITRON_PASSWORD=sandbox",
                    "OMNITRON_CHANNEL_ID=1",
                    "OMNITRON_CATALOG_ID=1",
                    f"WEB_PORT={web_port}",
                    f"FLOWER_PORT={flower_port}",
                    "FLOWER_ADDRESS=127.0.0.1",
                    f"FLOWER_URL=http://127.0.0.1:{flower_port}",
                    f"BEAT_SCHEDULE_FILE={workdir / 'beat-schedule'}",
                ]
            )
            + "\n"
        )
        env = clean_environ()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        log = (workdir / "honcho.log").open("wb")
        honcho = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "-f",
                str(REPO_ROOT / "Procfile"),
                "-e",
                str(env_file),
                "-d",
                str(workdir),
                "start",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        children: list[psutil.Process] = []
        try:
            wait_for_port(web_port, 40, honcho)
            wait_for_port(flower_port, 40, honcho)
            children = psutil.Process(honcho.pid).children(recursive=True)
            names = " ".join(" ".join(c.cmdline()) for c in children)
            for needle in ("uvicorn", "worker", "beat", "flower"):
                assert needle in names, names
            url = f"http://127.0.0.1:{web_port}/flower/api/task/async-apply/"
            deadline = time.monotonic() + 40
            state = None
            task_id = httpx.post(
                url + "channel_app_template.app.tasks.ping", json={}, auth=ADMIN
            ).json()["task-id"]
            while time.monotonic() < deadline and state != "SUCCESS":
                reply = httpx.get(
                    f"http://127.0.0.1:{web_port}/flower/api/task/result/{task_id}", auth=ADMIN
                ).json()
                state = reply["state"]
                time.sleep(0.3)
            assert state == "SUCCESS", (workdir / "honcho.log").read_text()[-3000:]
        finally:
            os.kill(honcho.pid, signal.SIGINT)
            honcho.wait(30)
            log.close()
        time.sleep(0.5)
        leftovers = [c for c in children if c.is_running() and c.status() != "zombie"]
        assert leftovers == [], [c.cmdline() for c in leftovers]


def test_two_workers_from_the_procfile_line_have_distinct_node_names() -> None:
    """``honcho start -c worker=2 worker``: the literal line, twice on one host."""
    workdir = Path(tempfile.mkdtemp(prefix="cat-two-workers-"))
    with redis_server() as redis:
        broker = f"redis://127.0.0.1:{redis.port}/0"
        env_file = workdir / ".env"
        env_file.write_text(
            f"BROKER_URL={broker}\nOMNITRON_URL=http://127.0.0.1:9\nOMNITRON_USERNAME=sandbox\n"
            "OMNITRON_PASSWORD=sandbox\nOMNITRON_CHANNEL_ID=1\nOMNITRON_CATALOG_ID=1\n"
        )
        env = clean_environ()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        log = (workdir / "honcho.log").open("wb")
        honcho = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "-f",
                str(REPO_ROOT / "Procfile"),
                "-e",
                str(env_file),
                "-d",
                str(workdir),
                "start",
                "-c",
                "worker=2",
                "worker",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        celery = Celery(broker=broker)
        names: set[str] = set()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(names) < 2:
                replies = celery.control.ping(timeout=1.0)
                names = {name for reply in replies for name in reply}
                assert honcho.poll() is None, (workdir / "honcho.log").read_text()[-3000:]
            workers = [
                " ".join(c.cmdline())
                for c in psutil.Process(honcho.pid).children(recursive=True)
                if "worker" in c.cmdline()
            ]
        finally:
            stop_group(honcho)
            log.close()
            celery.close()
        # Started from the literal line: no -n on it, two worker main processes.
        assert all(" -n " not in command and "--hostname" not in command for command in workers)
        assert len(names) == 2, (names, (workdir / "honcho.log").read_text()[-3000:])
        assert all(name.startswith("worker-") for name in names), names
