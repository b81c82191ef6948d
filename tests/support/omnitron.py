"""Start the Omnitron simulator as a real process for tests (``channel-app sandbox omnitron``).

    with omnitron_simulator(seed_products=50) as sim:
        token = sim.login()
        requests.get(f"{sim.api}/channel/1/products/", headers=sim.headers(token))

``sim.url`` is the base (``http://127.0.0.1:PORT``), ``sim.api`` adds ``/api/v1``, ``sim.state``
is the SQLite file (restart on the same file to test persistence with ``sim.restart()``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.processes import free_port, start
from tests.support.simulator import SimulatorProcess, json_request, simulator_command

USERNAME = "sandbox"
PASSWORD = "sandbox"
CHANNEL_ID = 1
CATALOG_ID = 1


@dataclass
class OmnitronSim(SimulatorProcess):
    """A running simulator; stdlib-only helpers so any test can use it."""

    extra: dict[str, Any] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """A JSON request to ``path`` (absolute path like ``/api/v1/...``); (status, body)."""
        headers = {"Authorization": f"Token {token}"} if token else None
        status, data, _ = json_request(f"{self.url}{path}", method, body, headers, timeout)
        return status, data

    def login(self, username: str = USERNAME, password: str = PASSWORD) -> str:
        status, body = self.call(
            "POST", "/api/v1/auth/login/", {"username": username, "password": password}
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        return str(body["key"])

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def client(self) -> ApiClient:
        """A logged-in JSON client for ``/api/v1`` paths (``client.get("/products/")``)."""
        return ApiClient(self, self.login())

    def inspect(self, path: str) -> Any:
        """GET a read-only ``/_sandbox/`` route (``sim.inspect("counts/")``)."""
        status, body = self.call("GET", f"/_sandbox/{path.lstrip('/')}")
        if status != 200:
            raise RuntimeError(f"/_sandbox/{path}: {status} {body}")
        return body

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset/", {})

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A ``/_sandbox/`` control call (``sim.control("POST", "faults/rules/", {...})``);
        raises with the answer unless it is a 2xx."""
        status, data = self.call(method, f"/_sandbox/{path.lstrip('/')}", body)
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} /_sandbox/{path}: {status} {data}")
        return data

    def fault(self, **rule: Any) -> Any:
        """Add one fault rule (``sim.fault(pattern="/products/$", action="ignore_page")``)."""
        return self.control("POST", "faults/rules/", rule)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults/")

    def channel_conf(self, conf: dict[str, Any] | None = None, *, merge: bool = False) -> Any:
        """Read channel 1's ``conf``, or replace (``merge``: update) it; returns the conf."""
        if conf is None:
            return self.control("GET", "channels/1/conf/")
        return self.control("PATCH" if merge else "PUT", "channels/1/conf/", conf)

    def plant(
        self,
        table: str,
        values: dict[str, Any] | None = None,
        *,
        obj_id: int | None = None,
        omit: list[str] | None = None,
        touch: bool = True,
    ) -> Any:
        """Store a deliberately malformed row (``/_sandbox/raw/``): a new one, or ``obj_id``
        overwritten; ``omit`` lists wire keys it is served without. Returns ``{"stored",
        "omit", "served"}``."""
        body: dict[str, Any] = {"values": values or {}, "touch": touch}
        if omit is not None:
            body["omit"] = omit
        if obj_id is None:
            return self.control("POST", f"raw/{table}/", body)
        return self.control("PATCH", f"raw/{table}/{obj_id}/", body)


@dataclass
class ApiClient:
    """Token-carrying helper over ``OmnitronSim.call`` for ``/api/v1``-relative paths."""

    sim: OmnitronSim
    token: str

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.sim.call(method, f"/api/v1{path}", body, token=self.token)

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.request("POST", path, body)

    def patch(self, path: str, body: Any) -> tuple[int, Any]:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> tuple[int, Any]:
        return self.request("DELETE", path)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """The body of a 2xx answer; raise with the error body otherwise."""
        status, data = self.request(method, path, body)
        if not 200 <= status < 300:
            raise AssertionError(f"{method} {path} -> {status} {data}")
        return data

    def erp(self, method: str, path: str, body: Any = None) -> Any:
        """The ERP integration API (``/api/i1``); the body of a 2xx answer."""
        status, data = self.sim.call(method, f"/api/i1{path}", body, token=self.token)
        if not 200 <= status < 300:
            raise AssertionError(f"{method} /api/i1{path} -> {status} {data}")
        return data

    def set_stock(self, sku: str, stock: int, stock_list: int = 1, **extra: Any) -> Any:
        """What a merchant's ERP sends: upsert the stock of ``sku`` on ``stock_list``."""
        body = {"product_sku": sku, "stock_list": stock_list, "stock": stock, **extra}
        return self.erp("POST", "/product_stock/", body)

    def set_price(self, sku: str, price: str, price_list: int = 1, **extra: Any) -> Any:
        """Upsert the price of ``sku`` on ``price_list`` (``/api/i1/product_price/``)."""
        body = {"product_sku": sku, "price_list": price_list, "price": price, **extra}
        return self.erp("POST", "/product_price/", body)

    def set_images(self, sku: str, images: list[dict[str, Any]]) -> Any:
        """Replace the images of ``sku`` (``[{"url", "order"?}]``)."""
        return self.erp("POST", "/product_image/", {"product_sku": sku, "images": images})

    def all_pages(self, path: str, limit: int = 100) -> list[dict[str, Any]]:
        """Follow ``page`` until ``next`` is null, as omnisdk does."""
        sep = "&" if "?" in path else "?"
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.ok("GET", f"{path}{sep}page={page}&limit={limit}")
            rows += body["results"]
            if not body["next"]:
                return rows
            page += 1


@contextlib.contextmanager
def omnitron_simulator(
    *args: str,
    seed_products: int = 0,
    state: Path | None = None,
    seed: int | None = None,
    start_timeout: float = 60.0,
) -> Iterator[OmnitronSim]:
    """Run ``channel-app sandbox omnitron`` on a free loopback port; stop it afterwards.

    ``args`` are extra CLI flags (``"--latency-ms", "20"``, ``"--fault", "..."``).
    """
    log_dir = Path(tempfile.mkdtemp(prefix="cat-omnitron-"))
    state = state or log_dir / "omnitron.sqlite3"
    flags = list(args)
    if seed_products:
        flags += ["--seed-products", str(seed_products)]
    if seed is not None:
        flags += ["--seed", str(seed)]
    port = free_port()
    command = simulator_command("omnitron", port, state, flags)
    service = start("omnitron", command, port=port, log_dir=log_dir, timeout=start_timeout)
    sim = OmnitronSim("omnitron", f"http://127.0.0.1:{port}", state, port, flags, service, log_dir)
    try:
        yield sim
    finally:
        sim.stop()
