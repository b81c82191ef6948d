"""Start the Omnitron simulator as a real process for tests (``channel-app sandbox omnitron``).

    with omnitron_simulator(seed_products=50) as sim:
        token = sim.login()
        requests.get(f"{sim.api}/channel/1/products/", headers=sim.headers(token))

``sim.url`` is the base (``http://127.0.0.1:PORT``), ``sim.api`` adds ``/api/v1``, ``sim.state``
is the SQLite file (restart on the same file to test persistence with ``sim.restart()``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.processes import Service, free_port, start

USERNAME = "sandbox"
PASSWORD = "sandbox"
CHANNEL_ID = 1
CATALOG_ID = 1


def _command(port: int, state: Path, args: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "channel_app_template.cli",
        "sandbox",
        "omnitron",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state",
        str(state),
        *args,
    ]


@dataclass
class OmnitronSim:
    """A running simulator; stdlib-only helpers so any test can use it."""

    url: str
    state: Path
    port: int
    args: list[str]
    service: Service
    log_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    @property
    def sandbox(self) -> str:
        return f"{self.url}/_sandbox"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """A JSON request to ``path`` (absolute path like ``/api/v1/...``); (status, body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
        return status, (json.loads(raw) if raw else None)

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

    def restart(self, *args: str) -> None:
        """Stop and start again on the same port and state file (state must survive)."""
        self.service.stop()
        self.service = start(
            "omnitron",
            _command(self.port, self.state, list(args or self.args)),
            port=self.port,
            log_dir=self.log_dir,
        )

    def stop(self) -> None:
        self.service.stop()


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
    *args: str, seed_products: int = 0, state: Path | None = None, seed: int | None = None
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
    service = start(
        "omnitron", _command(port, state, flags), port=port, log_dir=log_dir, timeout=60.0
    )
    sim = OmnitronSim(f"http://127.0.0.1:{port}", state, port, flags, service, log_dir)
    try:
        yield sim
    finally:
        sim.stop()
