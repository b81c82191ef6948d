"""``channel-app dev`` runs what ACC runs and talks to the integrator's own marketplace.

* The Procfile's lines are run as written: a channel importable only from the working
  directory (not installed) fails under ``dev`` exactly as under ``honcho start``, instead of
  being quietly imported by a ``python -m celery`` that ``dev`` made up.
* With the integrator's ``CHANNEL_MODULE`` and ``--channel-conf``, the catalog reaches the
  integrator's marketplace (a small HTTP server written here), with its API key; the
  reference marketplace is neither started nor written into ``channel.conf``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import psutil
import pytest
from celery import Celery
from honcho.environ import parse_procfile

from channel_app_template.kit.simulators import omnitron_simulator
from tests.support.celery_client import close_client
from tests.support.dev_stack import (
    channel_app_dev,
    clean_env,
    project_with_procfile,
    stop_and_check_nothing_is_left,
    wait_until,
)
from tests.support.processes import redis_server

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
# The console script, as a user types it: unlike ``python -m``, it does not put the working
# directory on sys.path, and neither do the Procfile's ``celery`` lines.
CHANNEL_APP = [str(BIN / "channel-app")]
TASKS = "channel_app_template.app.tasks."
IMPORTED = "BAZAAR-MODULE-IMPORTED"
BAZAAR = (
    "import sys\n"
    f"print('{IMPORTED}', file=sys.stderr, flush=True)\n"
    "from channel_app_template.channel import ChannelIntegration as Base\n\n\n"
    "class ChannelIntegration(Base):\n"
    "    def check_connection(self):\n"
    "        return None\n"
)
DEV_WORKER = r"\S+ worker +\| "
HONCHO_WORKER = r"\S+ worker\.1 +\| "
MODULE_ERROR = re.compile(r"CHANNEL_MODULE=channels\.bazaar\.integration: [^\n'\"\\]*")


def bazaar_project(directory: Path) -> Path:
    """``new-channel``'s layout at the project root, and nothing installs it."""
    project = project_with_procfile(directory)
    package = project / "channels" / "bazaar"
    package.mkdir(parents=True)
    (project / "channels" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "integration.py").write_text(BAZAAR)
    return project


def module_errors(text: str, prefix: str) -> set[str]:
    """The channel errors on the lines of ``text`` starting with ``prefix`` (a worker's)."""
    lines = [line for line in text.splitlines() if re.match(prefix, line)]
    return {m.group(0).strip() for m in MODULE_ERROR.finditer("\n".join(lines))}


def outcome(text: str, prefix: str) -> tuple[str, frozenset[str]] | None:
    """What became of the channel in the worker: imported, failed (with which errors), or
    nothing yet. Only the worker's lines count (``dev`` itself may fail to import it)."""
    if any(re.match(prefix, line) and IMPORTED in line for line in text.splitlines()):
        return ("imported", frozenset())
    errors = module_errors(text, prefix)
    return ("failed", frozenset(errors)) if errors else None


def under_honcho(project: Path) -> tuple[tuple[str, frozenset[str]] | None, str]:
    """The Procfile's worker line under ``honcho start``, given one task needing the channel
    (and an Omnitron to talk to, as under ``dev``)."""
    with redis_server() as redis, omnitron_simulator(seed_products=5) as omnitron:
        url = f"redis://127.0.0.1:{redis.port}/0"
        env = clean_env(f"{BIN}:/usr/bin:/bin")
        env.update(
            {
                "BROKER_URL": url,
                "CHANNEL_MODULE": "channels.bazaar.integration",
                "OMNITRON_URL": omnitron.url,
                "OMNITRON_USERNAME": "sandbox",
                "OMNITRON_PASSWORD": "sandbox",
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
                "FLOWER_BASIC_AUTH": "admin:honcho-test-1",
            }
        )
        log = project / "honcho.log"
        with log.open("wb") as handle:
            honcho = subprocess.Popen(
                [sys.executable, "-m", "honcho", "-f", "Procfile", "start", "worker"],
                cwd=project,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = Celery(broker=url, backend=url)
        try:
            client.send_task(TASKS + "update_channel_conf_schema")
            wait_until(
                lambda: (
                    outcome(log.read_text(errors="replace"), HONCHO_WORKER)
                    or honcho.poll() is not None
                ),
                180,
                None,
                "the worker loading the channel under honcho",
            )
        finally:
            close_client(client)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(honcho.pid, signal.SIGINT)
            try:
                honcho.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
                honcho.wait(10)
        text = log.read_text(errors="replace")
        return outcome(text, HONCHO_WORKER), text


def test_a_channel_only_in_the_working_directory_fares_under_dev_as_under_honcho(
    tmp_path: Path,
) -> None:
    """Whether the Procfile's worker can load such a channel depends on the app's code
    (it could not when this was written: every task failed); ``dev`` must tell the same."""
    project = bazaar_project(tmp_path / "project")
    expected, honcho_log = under_honcho(project)
    assert expected is not None, f"honcho's worker never loaded the channel:\n{honcho_log[-4000:]}"

    env = clean_env(f"{BIN}:/usr/bin:/bin")
    env["CHANNEL_MODULE"] = "channels.bazaar.integration"
    args = ("--products", "5", "--no-demo-orders", "--state-dir", str(tmp_path / "state"))
    with channel_app_dev(CHANNEL_APP, project, env, *args) as dev:
        # The demo's first setup task needs the channel, as the task sent to honcho's worker.
        found = wait_until(
            lambda: outcome(dev.output(), DEV_WORKER), 180, dev, "the worker loading the channel"
        )
        assert found == expected, (found, expected)
        # dev ran the very lines honcho ran, through sh -c, as written.
        commands = [p.cmdline() for p in psutil.Process(dev.process.pid).children()]
        for command in parse_procfile((project / "Procfile").read_text()).processes.values():
            assert ["/bin/sh", "-c", command] in commands, (command, commands)
        assert dev.banner("Procfile").startswith(f"{project / 'Procfile'} (web, worker, beat")


def test_a_broken_procfile_line_breaks_dev_too(tmp_path: Path) -> None:
    """Whatever the Procfile says is what runs: a mistyped option stops ``dev`` at once."""
    project = project_with_procfile(tmp_path / "project")
    procfile = project / "Procfile"
    procfile.write_text(procfile.read_text().replace("worker --loglevel", "worker --loglevl"))
    env = clean_env(f"{BIN}:/usr/bin:/bin")
    args = ("--products", "5", "--no-demo-orders", "--state-dir", str(tmp_path / "state"))
    with channel_app_dev(CHANNEL_APP, project, env, *args) as dev:
        wait_until(lambda: dev.process.poll() is not None, 180, None, "dev to stop")
        assert dev.process.returncode == 2, dev.output()[-3000:]
        assert "worker exited with code 2: stopping everything" in dev.output()
        assert "No such option '--loglevl'" in dev.output()


# --- The integrator's own marketplace ----------------------------------------------------

SHOP = """
import httpx

from channel_app_template.channel import ChannelConfig
from channel_app_template.channel import ChannelIntegration as Base
from channel_app_template.channel import ProductBatchRequestResponseDto, ResponseStatus


class ShopConfig(ChannelConfig):
    api_url: str
    api_key: str


class ChannelIntegration(Base):
    config_model = ShopConfig

    def __init__(self, config, context):
        super().__init__(config, context)
        self.http = httpx.Client(
            base_url=config.api_url, headers={"X-Shop-Key": config.api_key}, timeout=10
        )

    def close(self):
        self.http.close()

    def check_connection(self):
        self.http.get("/ping").raise_for_status()

    def send_inserted_products(self, items):
        response = self.http.post("/products", json=[{"sku": i.sku} for i in items])
        response.raise_for_status()
        return [
            ProductBatchRequestResponseDto(
                status=ResponseStatus.SUCCESS, sku=row["sku"], remote_id=row["id"]
            )
            for row in response.json()
        ]

    send_updated_products = send_inserted_products
"""


@dataclass
class ShopMarketplace:
    """What the test's marketplace received: product SKUs and the keys they came with."""

    url: str
    skus: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _ShopHandler(BaseHTTPRequestHandler):
    shop: ClassVar[ShopMarketplace]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        with self.shop.lock:
            self.shop.keys.add(self.headers.get("X-Shop-Key", ""))
        self._reply(200, {"ok": True})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        rows = json.loads(self.rfile.read(length) or b"[]")
        with self.shop.lock:
            self.shop.keys.add(self.headers.get("X-Shop-Key", ""))
            self.shop.skus += [row["sku"] for row in rows]
        self._reply(200, [{"sku": row["sku"], "id": f"shop-{row['sku']}"} for row in rows])


@pytest.fixture
def shop() -> Iterator[ShopMarketplace]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopHandler)
    market = ShopMarketplace(f"http://127.0.0.1:{server.server_address[1]}")
    _ShopHandler.shop = market
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield market
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_dev_syncs_the_integrators_channel_to_its_own_marketplace(
    tmp_path: Path, shop: ShopMarketplace
) -> None:
    site = tmp_path / "site"  # "installed": on PYTHONPATH, as pip would make it importable
    (site / "shop").mkdir(parents=True)
    (site / "shop" / "__init__.py").write_text("")
    (site / "shop" / "integration.py").write_text(SHOP)
    conf = tmp_path / "shop-conf.json"
    conf.write_text(json.dumps({"api_url": shop.url, "api_key": "shop-key-7f3a"}))
    project = project_with_procfile(tmp_path / "project")
    env = clean_env(f"{BIN}:/usr/bin:/bin")
    env.update({"CHANNEL_MODULE": "shop.integration", "PYTHONPATH": str(site)})
    args = ("--products", "12", "--no-demo-orders", "--channel-conf", f"@{conf}")
    with channel_app_dev(CHANNEL_APP, project, env, *args) as dev:
        line = dev.banner("channel conf")
        assert line == f"--channel-conf @{conf} (keys: api_key, api_url)", line
        assert dev.banner("channel") == "shop.integration"
        wait_until(lambda: len(set(shop.skus)) >= 12, 180, dev, "the catalog on the shop")
        assert shop.keys == {"shop-key-7f3a"}, shop.keys
        log = dev.output()
        assert "shop-key-7f3a" not in log  # the conf's values are never printed
        assert "marketplace (sim)" not in log
        assert not any("sandbox marketplace" in " ".join(p.cmdline()) for p in dev.tree())
        stop_and_check_nothing_is_left(dev)
