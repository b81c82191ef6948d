"""What ACC does, end to end, with an integrator's own channel.

1. On the "developer's machine" (this test's environment): ``channel-app new-channel
   bazaar`` in a copy of the project, then a minimal working implementation of it against
   this test's own marketplace (a tiny HTTP server below): products out, orders in.
2. The ACC build: ``build.sh`` in a fresh virtualenv, from that copy.
3. The ACC run: the literal ``worker`` and ``beat`` lines of the Procfile, through honcho,
   with a bare environment (``PATH`` to the built venv) plus the channel's settings, a
   private Redis and the Omnitron simulator whose ``channel.conf`` points at the test
   marketplace.

Done when beat's scheduled product sync reaches the test marketplace and an order placed
there comes back into the Omnitron simulator (and is acknowledged), exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.schedule import DEFAULT_SCHEDULE
from tests.support.deploy import copy_project, fresh_venv, run, stop_group, venv_env
from tests.support.omnitron import omnitron_simulator
from tests.support.processes import redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRODUCTS = 6
API_KEY = "bazaar-test-key"
SCHEDULE: dict[str, float | None] = {name: None for name in DEFAULT_SCHEDULE} | {
    "insert_and_update_products": 5,
    "fetch_orders": 5,
}

# What the integrator writes into the scaffolded module: four commands, on the scaffold's
# own client, for the test marketplace's small API.
IMPLEMENTATION = """

# --- A minimal working implementation (written by tests/integration/test_acc_deploy.py) ---
import datetime as _dt
from decimal import Decimal as _Decimal

from channel_app_template.channel import (
    AddressDto as _AddressDto,
    ChannelOrderDto as _ChannelOrderDto,
    CustomerDto as _CustomerDto,
    OrderItemDto as _OrderItemDto,
    ResponseStatus as _ResponseStatus,
)

_IMPLEMENTED = ("send_inserted_products", "send_updated_products", "get_orders",
                "acknowledge_orders")


class WorkingIntegration(BazaarIntegration):
    unsupported = {k: v for k, v in BazaarIntegration.unsupported.items()
                   if k not in _IMPLEMENTED}

    def send_inserted_products(self, items):
        body = [{"sku": item.sku, "name": str(getattr(item.obj, "name", ""))} for item in items]
        ids = self.client.request("POST", "/products", json=body)
        return [ProductBatchRequestResponseDto(status=_ResponseStatus.SUCCESS, sku=item.sku,
                                               remote_id=ids[item.sku]) for item in items]

    def send_updated_products(self, items):
        return self.send_inserted_products(items)

    def get_orders(self):
        for raw in self.client.request("GET", "/orders"):
            address = _AddressDto(email=raw["email"], phone_number="5550000000",
                                  first_name="Ayse", last_name="Yilmaz", country="TR",
                                  city="Istanbul", township="Kadikoy", district="Moda",
                                  line="Bagdat Cd. 1", postcode="34710")
            yield ChannelCreateOrderDto(
                order=_ChannelOrderDto(
                    remote_id=raw["id"], number=raw["number"],
                    customer=_CustomerDto(email=raw["email"], first_name="Ayse",
                                          last_name="Yilmaz"),
                    shipping_address=address, billing_address=address, currency="TRY",
                    amount=_Decimal(raw["price"]), cargo_company="yurtici",
                    created_at=_dt.datetime.fromisoformat(raw["created_at"])),
                order_item=[_OrderItemDto(remote_id=raw["id"] + "-1", product=raw["product"],
                                          price=_Decimal(raw["price"]), price_currency="TRY")],
            )

    def acknowledge_orders(self, remote_ids):
        self.client.request("POST", "/orders/ack", json=list(remote_ids))


ChannelIntegration = WorkingIntegration
"""


class Bazaar:
    """The test's marketplace: products by sku, orders until acknowledged; Bearer auth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.products: dict[str, str] = {}
        self.product_posts = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.acknowledged: set[str] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        market = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {API_KEY}":
                    return True
                self.reply(401, {"detail": "bad key"})
                return False

            def do_GET(self) -> None:
                if not self.authorised():
                    return
                with market.lock:
                    if self.path == "/":
                        self.reply(200, {"ok": True})
                    elif self.path == "/orders":
                        pending = [
                            o for k, o in market.orders.items() if k not in market.acknowledged
                        ]
                        self.reply(200, pending)
                    else:
                        self.reply(404, {"detail": "no such route"})

            def do_POST(self) -> None:
                if not self.authorised():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with market.lock:
                    if self.path == "/products":
                        market.product_posts += 1
                        for item in body:
                            market.products.setdefault(item["sku"], f"BZ-{item['sku']}")
                        self.reply(200, {i["sku"]: market.products[i["sku"]] for i in body})
                    elif self.path == "/orders/ack":
                        market.acknowledged.update(body)
                        self.reply(200, {"acknowledged": len(body)})
                    else:
                        self.reply(404, {"detail": "no such route"})

        return Handler

    def place_order(self, number: str, product_remote_id: str) -> None:
        with self.lock:
            self.orders[number] = {
                "id": f"O-{number}",
                "number": number,
                "email": "ayse@example.com",
                "product": product_remote_id,
                "price": "149.90",
                "created_at": "2026-01-02T10:00:00+00:00",
            }

    @contextlib.contextmanager
    def serving(self) -> Iterator[Bazaar]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def wait_until(condition: Callable[[], Any], timeout: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-6000:]
    raise AssertionError(f"{what} within {timeout:.0f}s (full log: {log})\n{tail}")


def fetch_runs(log: Path) -> int:
    """``fetch_orders`` runs the worker logged as succeeded."""
    text = log.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if "fetch_orders[" in line and " succeeded" in line)


@pytest.mark.timeout(1200)
def test_scaffolded_channel_deployed_like_acc_syncs_products_and_orders() -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="cat-acc-"))  # kept, with the logs, after a failure
    project = copy_project(tmp_path / "app")

    # 1. The developer: scaffold, implement.
    run(
        [sys.executable, "-m", "channel_app_template.cli", "new-channel", "bazaar", "--dir", "."],
        cwd=project,
        env=venv_env(Path(sys.executable).parent),
    )
    module = project / "channels" / "bazaar" / "integration.py"
    module.write_text(module.read_text() + IMPLEMENTATION)

    # 2. The ACC build.
    bin_dir = fresh_venv(tmp_path / "venv")
    run(["sh", "build.sh"], cwd=project, env=venv_env(bin_dir))

    # 3. The ACC run.
    with (
        Bazaar().serving() as market,
        redis_server() as redis,
        omnitron_simulator(seed_products=PRODUCTS) as sim,
    ):
        OmnitronClient(
            f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        ).channel.update(
            {"conf": {"remote_id_attribute": "sku", "api_url": market.url, "api_key": API_KEY}}
        )
        env = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
            "BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
            "OMNITRON_URL": f"{sim.url}/",
            "OMNITRON_USERNAME": "sandbox",
            "OMNITRON_PASSWORD": "sandbox",
            "OMNITRON_CHANNEL_ID": "1",
            "OMNITRON_CATALOG_ID": "1",
            "CHANNEL_MODULE": "channels.bazaar.integration",
            "BEAT_SCHEDULE": json.dumps(SCHEDULE),
            "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
        }
        log = tmp_path / "honcho.log"
        with log.open("wb") as out:
            honcho = subprocess.Popen(
                [sys.executable, "-m", "honcho", "-f", "Procfile", "start", "worker", "beat"],
                cwd=project,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            # The literal lines, run by the built venv's celery script (the kernel shows
            # its interpreter first).
            script = str(bin_dir / "celery")

            def celery_commands() -> set[tuple[str, ...]]:
                found = set()
                for child in psutil.Process(honcho.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        argv = child.cmdline()
                        if script in argv[:2]:
                            found.add(tuple(argv[argv.index(script) + 1 :]))
                return found if len(found) >= 2 else set()

            commands = wait_until(celery_commands, 60, "the Procfile's celery processes", log)
            procfile = dict(
                line.split(": ", 1) for line in (project / "Procfile").read_text().splitlines()
            )
            for role in ("worker", "beat"):
                literal = procfile[role].split()[1:]  # the shell expands ${...} defaults
                if role == "beat":
                    literal[-1] = str(tmp_path / "beat-schedule")
                assert tuple(literal) in commands, (role, commands)

            wait_until(
                lambda: len(market.products) == PRODUCTS,
                180,
                "beat's product sync reached the test marketplace",
                log,
            )
            _, remote_id = sorted(market.products.items())[0]
            market.place_order("BZ-1001", remote_id)

            def order_in_omnitron() -> list[dict[str, Any]]:
                rows = sim.client().all_pages("/channel/1/orders/", limit=100)
                return [o for o in rows if o["number"] == "BZ-1001"]

            (order,) = wait_until(order_in_omnitron, 120, "the order came back into Omnitron", log)
            assert order["number"] == "BZ-1001"
            wait_until(
                lambda: "O-BZ-1001" in market.acknowledged,
                60,
                "the order was acknowledged on the test marketplace",
                log,
            )
            assert honcho.poll() is None, log.read_text()[-4000:]
            # Exactly once: one Omnitron order, one mapping per product, ids as sent.
            # ...after one more scheduled fetch, where a duplicate would show.
            fetched = fetch_runs(log)
            wait_until(lambda: fetch_runs(log) > fetched, 60, "another scheduled fetch", log)
            assert len(order_in_omnitron()) == 1
            actions = sim.inspect("integration_actions/?model=product&limit=1000")["results"]
            assert sorted(a["remote_id"] for a in actions) == sorted(market.products.values())
            assert market.product_posts >= 1
        finally:
            stop_group(honcho)
