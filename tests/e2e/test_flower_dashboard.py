"""The Flower dashboard, opened through the public ``/flower/*`` proxy in headless Chromium.

Everything the browser fetches must come from ``/flower/`` and succeed: a stripped prefix
or a broken header rule shows up here as a 404 on a stylesheet, a request to ``/static/``,
or a table that never fills. The browser is the system Chromium (``apt-get install
chromium``); ``playwright install`` is never used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error as PlaywrightError,
    Page,
    Playwright,
    Request as BrowserRequest,
    Response as BrowserResponse,
    sync_playwright,
)

from tests.support.processes import REPO_ROOT
from tests.support.stack import ADMIN, VIEWER, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
# Bounded waits: the whole module must stay well under a minute.
NAVIGATION_MS = 15_000
SELECTOR_MS = 15_000
# What base.html loads on every page; each must arrive through the proxy.
EXPECTED_ASSETS = {
    "css/bootstrap.min.css",
    "css/datatables-1.13.4.min.css",
    "css/flower.css",
    "js/theme.js",
    "js/bootstrap.bundle.min.js",
    "js/jquery-3.6.4.min.js",
    "js/datatables-1.13.4.min.js",
    "js/moment-2.29.4.min.js",
    "js/moment-timezone-with-data-2.29.4.min.js",
    "js/flower.js",
}


@dataclass
class NetworkLog:
    """Every request a page made, every response it got, and what went wrong in it."""

    origin: str
    requests: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _response(self, response: BrowserResponse) -> None:
        self.responses.append((response.status, response.url))

    def _failed(self, request: BrowserRequest) -> None:
        # A poll still in flight when the test closes the page is aborted by the browser.
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self.failed.append(f"{request.method} {request.url}: {failure}")

    def static_paths(self) -> set[str]:
        prefix = "/flower/static/"
        return {
            urlsplit(url).path.removeprefix(prefix)
            for _, url in self.responses
            if urlsplit(url).path.startswith(prefix)
        }

    def assert_clean(self) -> None:
        """Nothing left /flower/ on our origin, nothing failed, no script broke."""
        outside = [
            url
            for url in self.requests
            if not url.startswith(f"{self.origin}/flower/") and not url.startswith("data:")
        ]
        assert not outside, f"requests outside {self.origin}/flower/: {outside}"
        bad = [(status, url) for status, url in self.responses if status >= 400]
        assert not bad, f"failed responses: {bad}"
        static = [
            (status, url)
            for status, url in self.responses
            if urlsplit(url).path.startswith("/flower/static/")
        ]
        assert static and all(status in (200, 304) for status, _ in static), static
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.page_errors, f"script errors on the page: {self.page_errors}"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `apt-get update && apt-get install -y "
            "chromium` (the e2e tests never download a browser; .ci/run installs it)",
            pytrace=False,
        )
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
    )
    try:
        yield launched
    finally:
        launched.close()


def new_context(browser: Browser, credentials: tuple[str, str] | None) -> BrowserContext:
    auth = {"username": credentials[0], "password": credentials[1]} if credentials else None
    context = browser.new_context(
        http_credentials=auth,  # type: ignore[arg-type]
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(SELECTOR_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    return context


@pytest.fixture
def admin_page(browser: Browser, stack: Stack) -> Iterator[tuple[Page, NetworkLog]]:
    context = new_context(browser, ADMIN)
    page = context.new_page()
    log = NetworkLog(stack.web_url)
    log.attach(page)
    try:
        yield page, log
    finally:
        context.close()


def worker_name(stack: Stack) -> str:
    response = httpx.get(f"{stack.web_url}/flower/api/workers?status=1", auth=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    online = [name for name, up in response.json().items() if up]
    assert online, f"no worker online\n{stack.logs()}"
    return str(online[0])


def settled_html(page: Page, timeout: float = 5.0) -> str:
    """The page's HTML once Chromium has stopped swapping in its own error page."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            page.wait_for_load_state("load")
            return page.content()
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def open_workers_page(page: Page, stack: Stack) -> None:
    """Open the dashboard and wait until its worker table says the worker is online."""
    name = worker_name(stack)
    response = page.goto(f"{stack.web_url}/flower/", wait_until="load")
    assert response is not None and response.status == 200
    row = page.locator("#workers-table tbody tr", has_text=name)
    row.locator(".badge", has_text="Online").wait_for(state="visible")
    # The summary card is filled by the same poll that fills the table.
    assert page.locator("#workers-online").inner_text(timeout=SELECTOR_MS).strip() != "—"


def test_dashboard_loads_every_asset_through_the_proxy(
    admin_page: tuple[Page, NetworkLog], stack: Stack
) -> None:
    page, log = admin_page
    open_workers_page(page, stack)
    assert "Flower" in page.title()

    missing = EXPECTED_ASSETS - log.static_paths()
    assert not missing, f"assets never requested through /flower/static/: {missing}"
    # The stylesheet really applied: Bootstrap sets this on <body>.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font or "apple-system" in font.lower(), font
    # The dashboard's polling went through the proxy too.
    assert any("/flower/workers?json=1" in url for _, url in log.responses)
    log.assert_clean()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flower-dashboard.png"), full_page=True)


def test_task_triggered_through_proxy_shows_on_tasks_page(
    admin_page: tuple[Page, NetworkLog], stack: Stack
) -> None:
    page, log = admin_page
    triggered = httpx.post(
        f"{stack.web_url}/flower/api/task/async-apply/tests.add",
        json={"args": [20, 22]},
        auth=ADMIN,
        timeout=10,
    )
    assert triggered.status_code == 200, triggered.text
    task_id = triggered.json()["task-id"]

    # rowId is the task's uuid; the table is filled by POST /flower/tasks/datatable, and
    # the task may still be running (or its events still on the way) on the first load.
    row = page.locator(f'#tasks-table tbody tr[id="{task_id}"]')
    deadline = time.monotonic() + 20
    while True:
        with page.expect_response(lambda r: "/flower/tasks/datatable" in r.url) as table:
            page.goto(f"{stack.web_url}/flower/tasks", wait_until="load")
        assert table.value.status == 200, table.value.text()
        assert table.value.request.method == "POST"
        page.locator("#tasks-table_processing").wait_for(state="hidden")
        if row.count() and "SUCCESS" in row.inner_text():
            break
        assert time.monotonic() < deadline, (
            f"task {task_id} not shown as SUCCESS on /flower/tasks: "
            f"{page.locator('#tasks-table tbody').inner_text()}\n{stack.logs()}"
        )
        time.sleep(0.5)

    text = row.inner_text()
    assert task_id in text and "tests.add" in text and "SUCCESS" in text
    assert row.locator(f'a[href="/flower/task/{task_id}"]').count() == 1
    log.assert_clean()
    page.screenshot(path=str(ARTIFACTS / "flower-tasks.png"), full_page=True)


@pytest.mark.parametrize(
    "credentials", [None, ("admin", "wrong-password-1")], ids=["anonymous", "wrong-password"]
)
def test_browser_without_valid_credentials_gets_401(
    browser: Browser, stack: Stack, credentials: tuple[str, str] | None
) -> None:
    context = new_context(browser, credentials)
    try:
        page = context.new_page()
        answers: list[BrowserResponse] = []
        page.on("response", lambda response: answers.append(response))
        try:
            page.goto(f"{stack.web_url}/flower/", wait_until="load")
        except PlaywrightError as error:
            # With no credentials to offer, Chromium cancels the Basic challenge and ends
            # the navigation with this error instead of rendering the 401 body.
            assert credentials is None and "ERR_INVALID_AUTH_CREDENTIALS" in str(error)
        assert answers, "the proxy never answered"
        assert [(r.status, r.url) for r in answers] == [(401, f"{stack.web_url}/flower/")]
        assert answers[0].headers.get("www-authenticate", "").lower().startswith("basic")
        html = settled_html(page)
        assert "workers-table" not in html and "url_prefix" not in html and "Flower" not in html
    finally:
        context.close()


def test_read_only_user_sees_the_dashboard(browser: Browser, stack: Stack) -> None:
    context = new_context(browser, VIEWER)
    try:
        page = context.new_page()
        log = NetworkLog(stack.web_url)
        log.attach(page)
        open_workers_page(page, stack)
        assert not EXPECTED_ASSETS - log.static_paths()
        # The task table's POST is a read, so read-only users get it too.
        with page.expect_response(lambda r: "/flower/tasks/datatable" in r.url) as table:
            page.goto(f"{stack.web_url}/flower/tasks", wait_until="load")
        assert table.value.status == 200, table.value.text()
        page.locator("#tasks-table_processing").wait_for(state="hidden")
        log.assert_clean()
    finally:
        context.close()
