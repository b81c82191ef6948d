"""``channel-app dev`` for real: the newcomer path, from a clean virtualenv to a dashboard.

A fresh ``python -m venv`` gets ``pip install "<repo>[local]"``; ``channel-app dev`` then runs in an
empty directory with no setting of ours in its environment. It must embed its own broker
(never the machine's Redis on 6379), start both simulators, sync the demo catalog to the
marketplace and the demo orders to Omnitron, show it all in Flower through the web proxy
(seen by headless Chromium), and leave no process behind after Ctrl-C.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from playwright.sync_api import Page, sync_playwright

from channel_app_template.devstack.stack import SETUP_TASKS
from tests.e2e.test_flower_dashboard import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.processes import REPO_ROOT, free_port, redis_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SYNC_TIMEOUT = 120.0
DEMO_ORDERS = 25
PRODUCTS = 200
TASKS = "channel_app_template.app.tasks."


@dataclass
class DevRun:
    """A running ``channel-app dev`` and what its banner said."""

    process: subprocess.Popen[bytes]
    log: Path
    web_port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def banner(self, label: str, timeout: float = 120.0) -> str:
        """The value of a banner line (``label : value``), once it is printed."""
        pattern = re.compile(rf"\| {re.escape(label)}\s*: (.+)$", re.MULTILINE)
        found = wait_until(lambda: pattern.search(self.output()), timeout, self, f"{label!r}")
        return str(found.group(1)).strip()

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def tree(self) -> list[psutil.Process]:
        """Every process below ``dev``: children in their own groups, and their children."""
        return psutil.Process(self.process.pid).children(recursive=True)


def wait_until(check: Callable[[], Any], timeout: float, dev: DevRun, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        if dev.process.poll() is not None:
            raise AssertionError(f"dev exited ({dev.process.returncode}) waiting for {what}")
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout:.0f}s\n{dev.output()[-6000:]}")


def clean_env(path: str) -> dict[str, str]:
    """What a newcomer's shell has: no BROKER_*, OMNITRON_*, FLOWER_* or anything of ours."""
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["PIP_FIND_LINKS"] = os.environ.get("PIP_FIND_LINKS", "")
    return {k: v for k, v in env.items() if v}


@contextlib.contextmanager
def channel_app_dev(
    command: list[str], cwd: Path, env: dict[str, str], *args: str
) -> Iterator[DevRun]:
    web_port = free_port()
    log = cwd / "dev.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "dev", "--port", str(web_port), *args],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = DevRun(process, log, web_port)
    try:
        yield dev
    finally:
        if process.poll() is None:  # a failed test: still leave nothing behind
            leftovers = dev.tree()
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                for proc in [psutil.Process(process.pid), *leftovers]:
                    with contextlib.suppress(psutil.Error):
                        proc.kill()
                process.wait(10)


def stop_and_check_nothing_is_left(dev: DevRun, expected_code: int | None = 0) -> None:
    tree = dev.tree()
    assert tree, "dev started no process"
    dev.process.send_signal(signal.SIGINT)
    code = dev.process.wait(60)
    if expected_code is not None:
        assert code == expected_code, dev.output()[-4000:]
    _, alive = psutil.wait_procs(tree, timeout=10)
    alive = [p for p in alive if _running(p)]
    assert not alive, f"left running: {[(p.pid, p.cmdline()) for p in alive]}"
    assert "all processes stopped" in dev.output()


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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


@pytest.fixture(scope="module")
def newcomer_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m venv`` + ``pip install "<repo>[local]"``: nothing else, no system Redis."""
    venv = tmp_path_factory.mktemp("newcomer") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"{REPO_ROOT}[local]"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**clean_env(os.environ.get("PATH", "")), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert (venv / "bin" / "channel-app").exists()
    return venv


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


def test_newcomer_venv_to_synced_dashboard_and_clean_ctrl_c(
    newcomer_venv: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = clean_env(f"{newcomer_venv / 'bin'}:/usr/bin:/bin")
    command = [str(newcomer_venv / "bin" / "channel-app")]
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
    project = tmp_path / "project"
    project.mkdir()
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
                p for p in psutil.Process(dev.process.pid).children() if "worker" in p.cmdline()
            )
            assert wait_until(lambda: transport_port(dev.output()), 60, dev, "worker") == redis.port
            os.killpg(worker.pid, signal.SIGKILL)
            code = dev.process.wait(60)
            assert code != 0
            assert "worker exited with code -9: stopping everything" in dev.output()
            _, alive = psutil.wait_procs(tree, timeout=10)
            assert not [p for p in alive if _running(p)]
