"""What both simulator helpers share: the command that serves one, the running process
with its URL, state file and restart, and a stdlib JSON request."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import Service, start


def simulator_command(kind: str, port: int, state: Path, args: Sequence[str]) -> list[str]:
    """``channel-app sandbox <kind>`` on loopback, with its state in ``state``."""
    return [
        sys.executable,
        "-m",
        "channel_app_template.cli",
        "sandbox",
        kind,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state",
        str(state),
        *args,
    ]


def json_request(
    url: str,
    method: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any, dict[str, str]]:
    """(status, decoded body, response headers with lower-case names); errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
            got = {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
        got = {k.lower(): v for k, v in error.headers.items()}
    return status, (json.loads(raw) if raw else None), got


@dataclass
class SimulatorProcess:
    """A running simulator: ``url`` is the base, ``api`` adds ``/api/v1``, ``state`` is the
    SQLite file (``restart()`` keeps it, to test persistence)."""

    kind: str
    url: str
    state: Path
    port: int
    args: list[str]
    service: Service
    log_dir: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    @property
    def sandbox(self) -> str:
        return f"{self.url}/_sandbox"

    def restart(self, *args: str) -> None:
        """Stop and start again on the same port and state file (state must survive)."""
        self.service.stop()
        command = simulator_command(self.kind, self.port, self.state, list(args or self.args))
        self.service = start(self.kind, command, port=self.port, log_dir=self.log_dir)

    def stop(self) -> None:
        self.service.stop()
