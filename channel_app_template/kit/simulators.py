"""Start the bundled simulators as real processes, for the conformance suite.

The suite ships inside the package (integrators do not have this repository's ``tests/``),
so it starts ``channel-app sandbox omnitron`` (and, for the reference integration,
``channel-app sandbox marketplace``) itself: on a free loopback port, in its own process
group, with its state in a temporary directory, and stops exactly what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OMNITRON_USER = "sandbox"
OMNITRON_PASSWORD = "sandbox"  # the simulator's fixed login, not a secret  # noqa: S105
MARKETPLACE_KEY = "sandbox-key"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Launched:
    """A simulator process we started; ``log`` holds its output."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        """A JSON request to ``path`` (absolute, like ``/api/v1/...``): (status, body)."""
        data = None if body is None else json.dumps(body).encode()
        url = f"{self.url}{path}"  # always http://127.0.0.1:PORT
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        return status, (json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        status, data = self.call(method, path, body, **headers)
        if not 200 <= status < 300:
            raise RuntimeError(f"{self.name}: {method} {path} -> {status} {data}")
        return data


def _launch(name: str, args: Sequence[str], timeout: float = 60.0) -> Launched:
    workdir = Path(tempfile.mkdtemp(prefix=f"channel-app-{name}-"))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "channel_app_template.cli",
        "sandbox",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state",
        str(workdir / f"{name}.sqlite3"),
        *args,
    ]
    log = workdir / f"{name}.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    launched = Launched(name, process, port, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"the {name} simulator exited at start:\n{launched.output()[-3000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return launched
        if time.monotonic() > deadline:
            launched.stop()
            raise RuntimeError(f"the {name} simulator did not listen within {timeout:.0f}s")
        time.sleep(0.05)


class OmnitronSimulator:
    """``channel-app sandbox omnitron`` with ``seed_products`` products (channel 1, catalog 1)."""

    channel_id = 1
    catalog_id = 1

    def __init__(self, launched: Launched) -> None:
        self.process = launched
        self.url = launched.url
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            body = self.process.ok(
                "POST",
                "/api/v1/auth/login/",
                {"username": OMNITRON_USER, "password": OMNITRON_PASSWORD},
            )
            self._token = str(body["key"])
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """An authenticated ``/api/v1`` call (``sim.api("DELETE", "/products/3/")``)."""
        return self.process.ok(
            method, f"/api/v1{path}", body, Authorization=f"Token {self.token()}"
        )

    def all_pages(self, path: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        sep = "&" if "?" in path else "?"
        page = 1
        while True:
            body = self.api("GET", f"{path}{sep}page={page}&limit=500")
            rows += body["results"]
            if not body.get("next"):
                return rows
            page += 1

    def set_channel_conf(self, conf: dict[str, Any]) -> None:
        """Replace the channel's ``conf``, as the merchant's settings form does."""
        self.process.ok("PUT", f"/_sandbox/channels/{self.channel_id}/conf/", conf)

    def inspect(self, path: str) -> Any:
        """A read-only ``/_sandbox/`` route (``batch_requests/``, ``integration_actions/``)."""
        return self.process.ok("GET", f"/_sandbox/{path.lstrip('/')}")


@contextlib.contextmanager
def omnitron_simulator(seed_products: int = 6) -> Iterator[OmnitronSimulator]:
    launched = _launch("omnitron", ["--seed-products", str(seed_products)])
    try:
        yield OmnitronSimulator(launched)
    finally:
        launched.stop()
        shutil.rmtree(launched.log.parent, ignore_errors=True)


@contextlib.contextmanager
def reference_marketplace() -> Iterator[Launched]:
    """``channel-app sandbox marketplace``: batches done at once, no rate limit."""
    launched = _launch("marketplace", ["--batch-delay", "0", "--rate-limit", "0"])
    try:
        yield launched
    finally:
        launched.stop()
        shutil.rmtree(launched.log.parent, ignore_errors=True)
