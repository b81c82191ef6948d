"""The proxy's own CPU per ``GET /flower/api/workers``, in one process, without noise.

    python bench/bench_proxy_cpu.py                 # 5,000 requests, 3 runs
    python bench/bench_proxy_cpu.py --profile       # and where the time goes (cProfile)

``bench_proxy.py`` measures the real processes, but on a 2-core machine its numbers move
by 15% between runs. This drives the proxy's ASGI handler directly on uvloop, one request
after another, against a tiny upstream in the same loop that answers a 7.6 KB body: the
CPU per request is the proxy's code, its connection to the upstream and that upstream's
few lines, steady enough to compare two versions of the proxy (about 10 us apart).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BODY = b'{"w":"' + b"x" * 7600 + b'"}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
USER, PASSWORD = "admin", "admin-secret-1"


class Upstream(asyncio.Protocol):
    """Answers every request head with :data:`ANSWER`, keeping the connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(ANSWER)


async def measure(requests: int, profile: bool) -> float:
    from channel_app_template.api.app import login_gate, proxy_config
    from channel_app_template.api.proxy import FlowerProxy
    from channel_app_template.settings import Settings

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings.model_validate(
        {"flower_url": f"http://127.0.0.1:{port}", "flower_basic_auth": f"{USER}:{PASSWORD}"}
    )
    proxy = FlowerProxy(proxy_config(settings, login_gate(settings)))
    await proxy.start()
    auth = b"Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode())
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/flower/api/workers",
        "raw_path": b"/flower/api/workers",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", auth), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "http_version": "1.1",
    }
    answered: list[int] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    async def one() -> None:
        await proxy(dict(scope), receive, send)

    try:
        for _ in range(200):  # connections made, code warm
            await one()
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(requests):
            await one()
        if profiler:
            profiler.disable()
        spent = time.process_time() - started
    finally:
        await proxy.close()
        server.close()
    if set(answered) != {200}:
        raise SystemExit(f"the proxy answered {sorted(set(answered))}, not only 200")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return spent / requests


def main() -> None:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    for run in range(1, args.runs + 1):
        seconds = uvloop.run(measure(args.requests, args.profile))
        print(f"run {run}: {seconds * 1e6:.1f} us of CPU per proxied GET (in one process)")


if __name__ == "__main__":
    main()
