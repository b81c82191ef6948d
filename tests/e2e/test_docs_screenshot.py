"""README's Flower screenshots, taken for real: the project's own worker syncs a small
catalog and a few orders between the two simulators, tasks are triggered through the
``web`` proxy the way README's curl lines do it, and headless Chromium photographs the
dashboard and the task list through ``/flower/``.

Each run rewrites ``docs/flower-dashboard.png`` and ``docs/flower-tasks.png``, so the
pictures show the dashboard as it is today (commit them when they changed).
"""

from __future__ import annotations

import contextlib
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.test_flower_dashboard import CHROMIUM, CHROMIUM_ARGS, NetworkLog, new_context
from tests.support.processes import REPO_ROOT, Service, free_port, start
from tests.support.stack import ADMIN, start_web
from tests.support.sync_stack import PREFIX, SyncStack, sync_stack

pytestmark = pytest.mark.e2e

DOCS = REPO_ROOT / "docs"
DASHBOARD_PNG = DOCS / "flower-dashboard.png"
TASKS_PNG = DOCS / "flower-tasks.png"
# A README-sized picture: legible when GitHub scales it to the page's width.
VIEWPORT = {"width": 1280, "height": 720}
DASHBOARD_HEIGHT = 570  # the workers page ends there; the rest is empty
# What the screenshots show: a catalog sync, its check, and orders coming in.
TASKS = (
    "create_or_update_category_tree_and_nodes",
    "create_or_update_category_attributes",
    "insert_and_update_products",
    "check_products",
    "insert_and_update_stocks",
    "insert_and_update_prices",
    "fetch_orders",
)
RESULT_DEADLINE = 120.0


@dataclass
class AppStack:
    """The project's worker with both simulators, plus Flower and web in front of it."""

    sync: SyncStack
    flower: Service
    web: Service

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web.port}"

    def logs(self) -> str:
        return "\n".join(
            f"--- {s.name} ---\n{s.output()[-3000:]}"
            for s in (self.sync.worker, self.flower, self.web)
        )

    def trigger(self, task: str) -> dict[str, Any]:
        """``async-apply`` through the proxy, then the result through the proxy."""
        sent = httpx.post(
            f"{self.web_url}/flower/api/task/async-apply/{PREFIX}{task}",
            json={},
            auth=ADMIN,
            timeout=30,
        )
        assert sent.status_code == 200, sent.text
        task_id = sent.json()["task-id"]
        deadline = time.monotonic() + RESULT_DEADLINE
        while True:
            answer = httpx.get(
                f"{self.web_url}/flower/api/task/result/{task_id}?timeout=5",
                auth=ADMIN,
                timeout=30,
            )
            if answer.status_code == 200 and answer.json().get("state") in ("SUCCESS", "FAILURE"):
                body: dict[str, Any] = answer.json()
                assert body["state"] == "SUCCESS", f"{task}: {body}\n{self.logs()}"
                return body
            assert time.monotonic() < deadline, f"{task} never finished\n{self.logs()}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def app_stack() -> Iterator[AppStack]:
    with sync_stack(products=40) as sync:
        env = {**sync.env, "FLOWER_BASIC_AUTH": f"{ADMIN[0]}:{ADMIN[1]}"}
        port = free_port()
        flower = start(
            "flower",
            [
                sys.executable,
                "-m",
                "channel_app_template.cli",
                "flower",
                "--address",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            port=port,
            cwd=sync.workdir,
            log_dir=sync.workdir,
            timeout=60.0,
        )
        web = None
        try:
            web = start_web({**env, "FLOWER_URL": f"http://127.0.0.1:{port}"}, sync.workdir)
            yield AppStack(sync, flower, web)
        finally:
            for service in (web, flower):
                if service is not None:
                    service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}", pytrace=False)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, ADMIN)
    context.set_default_timeout(30_000)
    with contextlib.closing(context):
        opened = context.new_page()
        opened.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        yield opened


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_readme_screenshots_show_real_tasks_through_the_proxy(
    app_stack: AppStack, page: Page
) -> None:
    summaries: dict[str, dict[str, Any]] = {}
    for task in TASKS:
        if task == "check_products":  # the marketplace's product job is done
            app_stack.sync.market.complete_batches()
        if task == "fetch_orders":  # orders of the products just synced
            app_stack.sync.market.generate_orders(5, seed=7)
        summaries[task] = app_stack.trigger(task)
    assert app_stack.sync.market.order_counts()["acknowledged"] == 5, summaries

    log = NetworkLog(app_stack.web_url)
    log.attach(page)
    response = page.goto(f"{app_stack.web_url}/flower/", wait_until="load")
    assert response is not None and response.status == 200
    worker = page.locator("#workers-table tbody tr", has_text="sync@")
    worker.locator(".badge", has_text="Online").wait_for(state="visible")
    # The counters come from Celery events and the worker's stats, each on its own poll:
    # wait until the row says every task succeeded and none is active any more.
    cells = worker.locator("td")
    deadline = time.monotonic() + 60
    while [cells.nth(i).inner_text().strip() for i in (2, 3, 5)] != ["0", *[str(len(TASKS))] * 2]:
        assert time.monotonic() < deadline, worker.inner_text()
        time.sleep(0.5)
    DOCS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(DASHBOARD_PNG),
        clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": DASHBOARD_HEIGHT},
    )

    with page.expect_response(lambda r: "/flower/tasks/datatable" in r.url) as table:
        page.goto(f"{app_stack.web_url}/flower/tasks", wait_until="load")
    assert table.value.status == 200
    page.locator("#tasks-table_processing").wait_for(state="hidden")
    rows = page.locator("#tasks-table tbody")
    for task in TASKS:
        assert f"{PREFIX}{task}" in rows.inner_text(), rows.inner_text()
    page.screenshot(path=str(TASKS_PNG))
    log.assert_clean()

    assert png_size(DASHBOARD_PNG) == (VIEWPORT["width"], DASHBOARD_HEIGHT)
    assert png_size(TASKS_PNG) == (VIEWPORT["width"], VIEWPORT["height"])
