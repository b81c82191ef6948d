"""``channel-app dev`` for real: the newcomer path, from a clean virtualenv to a dashboard.

In a copy of the project (what a clone holds) a fresh ``python -m venv`` runs README.rst's
own install command; its ``channel-app dev`` then runs there with no setting of ours in its
environment. It must embed its own broker (never the machine's Redis on 6379), start both
simulators, run the Procfile's lines, sync the demo catalog to the marketplace and the demo
orders to Omnitron, show it all in Flower through the web proxy (seen by headless
Chromium), and leave no process behind after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from playwright.sync_api import Page, sync_playwright

from channel_app_template.devstack.stack import SETUP_TASKS
from tests.e2e.test_flower_dashboard import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.dev_stack import (
    DevRun,
    channel_app_dev,
    clean_env,
    copy_of_the_project,
    project_with_procfile,
    running,
    stop_and_check_nothing_is_left,
    wait_until,
)
from tests.support.processes import REPO_ROOT, redis_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SYNC_TIMEOUT = 120.0
DEMO_ORDERS = 25
PRODUCTS = 200
TASKS = "channel_app_template.app.tasks."


def transport_port(log: str) -> int | None:
    """The broker port in the worker's banner (Celery masks any password as ``:**@``)."""
    found = re.search(r"worker +\| .*transport: +redis://(?::\*\*@)?127\.0\.0\.1:(\d+)/", log)
    return int(found.group(1)) if found else None


def remote_ports(processes: list[psutil.Process]) -> set[int]:
    ports: set[int] = set()
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            for conn in proc.net_connections(kind="tcp"):
                if conn.raddr:
                    ports.add(conn.raddr.port)
    return ports


def readme_install_command() -> str:
    """The install half of README.rst's ``pip install ... && channel-app dev``."""
    found = re.search(
        r"^ +(pip install [^\n]+?) && channel-app dev$",
        (REPO_ROOT / "README.rst").read_text(),
        re.MULTILINE,
    )
    assert found, "README.rst no longer shows 'pip install ... && channel-app dev'"
    return found.group(1)


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the project and a fresh venv in which README's install command ran:
    nothing else, no system Redis needed. Returns (project, venv)."""
    root = tmp_path_factory.mktemp("newcomer")
    project = copy_of_the_project(root / "project")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = clean_env(f"{venv / 'bin'}:{os.environ.get('PATH', '')}")
    installed = subprocess.run(
        ["/bin/sh", "-c", readme_install_command() + " --quiet"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        env={**env, "VIRTUAL_ENV": str(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert (venv / "bin" / "channel-app").exists()
    return project, venv


def open_dashboard(page: Page, dev: DevRun) -> None:
    response = page.goto(f"{dev.web_url}/flower/", wait_until="load")
    assert response is not None and response.status == 200
    page.locator("#workers-table tbody tr .badge", has_text="Online").first.wait_for(
        state="visible"
    )


def succeeded_tasks_page(page: Page, dev: DevRun, names: tuple[str, ...]) -> str:
    """The tasks page, reloaded until every name in ``names`` shows a SUCCESS row."""
    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{dev.web_url}/flower/tasks", wait_until="load")
        page.locator("#tasks-table_processing").wait_for(state="hidden")
        rows = page.locator("#tasks-table tbody tr").all_inner_texts()
        missing = [n for n in names if not any(n in r and "SUCCESS" in r for r in rows)]
        if not missing:
            return "\n".join(rows)
        assert time.monotonic() < deadline, f"not shown as succeeded: {missing}\n{rows[:20]}"
        time.sleep(1.0)


def test_newcomer_venv_to_synced_dashboard_and_clean_ctrl_c(newcomer: tuple[Path, Path]) -> None:
    project, venv = newcomer
    env = clean_env(f"{venv / 'bin'}:/usr/bin:/bin")
    command = [str(venv / "bin" / "channel-app")]
    started = time.monotonic()
    with channel_app_dev(command, project, env, "--products", str(PRODUCTS)) as dev:
        broker = dev.banner("broker")
        match = re.match(r"redis://127\.0\.0\.1:(\d+)/0 \(embedded valkey", broker)
        assert match, broker
        broker_port = int(match.group(1))
        assert broker_port != 6379
        assert f"data in {project / 'var' / 'dev' / 'valkey'}" in broker
        user, password = dev.banner("Flower login").split(" / ")
        assert user == "admin" and len(password) >= 8
        omnitron = dev.banner("Omnitron (sim)").split()[0].rstrip("/")
        market = dev.banner("marketplace (sim)").split()[0].rstrip("/")

        # Catalog to the marketplace, then orders to Omnitron, in bounded time.
        wait_until(
            lambda: httpx.get(f"{market}/_sandbox/counts/").json()["products"] > 0,
            SYNC_TIMEOUT,
            dev,
            "product on the marketplace",
        )
        first_product = time.monotonic() - started
        wait_until(
            lambda: httpx.get(f"{omnitron}/_sandbox/counts/").json()["orders"] >= DEMO_ORDERS,
            SYNC_TIMEOUT,
            dev,
            "demo orders in Omnitron",
        )
        orders_in = time.monotonic() - started
        print(f"first product after {first_product:.1f}s, orders after {orders_in:.1f}s")

        # The embedded server is the only broker: its port in the worker's banner, and no
        # process of the stack holds a connection to 6379.
        log = dev.output()
        assert transport_port(log) == broker_port, log[-3000:]
        assert ":6379" not in log
        tree = dev.tree()
        assert any("valkey-server" in " ".join(p.cmdline()) for p in tree)
        ports = remote_ports(tree)
        assert broker_port in ports and 6379 not in ports, ports

        # The dashboard, through the web proxy, in a real browser.
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = browser.new_context(
                    http_credentials={"username": user, "password": password},
                    viewport={"width": 1280, "height": 800},
                )
                context.set_default_timeout(20_000)
                page = context.new_page()
                open_dashboard(page, dev)
                assert page.locator("#workers-online").inner_text().strip() not in ("", "—", "0")
                page.screenshot(path=str(ARTIFACTS / "dev-dashboard.png"), full_page=True)
                rows = succeeded_tasks_page(
                    page,
                    dev,
                    (
                        TASKS + "insert_and_update_products",
                        TASKS + "check_products",
                        TASKS + "fetch_orders",
                    ),
                )
                assert "FAILURE" not in rows, rows
                page.screenshot(path=str(ARTIFACTS / "dev-tasks.png"), full_page=True)
                context.close()
            finally:
                browser.close()

        # The one-off setup runs are older than the table's first page: ask Flower's API.
        for name in SETUP_TASKS:
            found = httpx.get(
                f"{dev.web_url}/flower/api/tasks",
                params={"taskname": TASKS + name, "state": "SUCCESS"},
                auth=(user, password),
                timeout=10,
            )
            assert found.status_code == 200 and found.json(), (name, found.text[:500])

        stop_and_check_nothing_is_left(dev)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", broker_port), timeout=1).close()


def test_configured_broker_is_used_and_a_dying_process_stops_the_stack(tmp_path: Path) -> None:
    """With BROKER_URL set no embedded server starts; a crash ends ``dev`` non-zero."""
    project = project_with_procfile(tmp_path / "project")
    with redis_server() as redis:
        env = clean_env(f"{Path(sys.executable).parent}:/usr/bin:/bin")
        env["BROKER_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        command = [sys.executable, "-m", "channel_app_template.cli"]
        with channel_app_dev(command, project, env, "--no-demo-orders", "--products", "20") as dev:
            assert dev.banner("broker").startswith("yours")
            dev.banner("stop")
            tree = dev.tree()
            assert not any("valkey" in " ".join(p.cmdline()) for p in tree)
            assert not (project / "var" / "dev" / "valkey").exists()
            worker = next(
                p
                for p in psutil.Process(dev.process.pid).children()
                if "worker" in " ".join(p.cmdline()).split()
            )
            assert wait_until(lambda: transport_port(dev.output()), 60, dev, "worker") == redis.port
            os.killpg(worker.pid, signal.SIGKILL)
            code = dev.process.wait(60)
            assert code != 0
            assert "worker exited with code -9: stopping everything" in dev.output()
            _, alive = psutil.wait_procs(tree, timeout=30)
            assert not [p for p in alive if running(p)]
