"""The proxy's own CPU per ``GET /flower/api/workers``, in one process, without noise.

    python bench/bench_proxy_cpu.py                 # the lane: 5,000 requests, 3 runs
    python bench/bench_proxy_cpu.py --way asgi      # the ASGI handler instead
    python bench/bench_proxy_cpu.py --profile       # and where the time goes (cProfile)

``bench_proxy.py`` measures the real processes, but on a 2-core machine its numbers move
by 15% between runs. This runs one request after another on uvloop against a tiny
upstream in the same loop that answers a 7.6 KB body, steady enough to compare two
versions of the proxy (about 5 us apart):

* ``lane`` (the default): the way such a GET goes in production (``api/_lane.py``),
  uvicorn with the Procfile's HTTP protocol in this process and a raw kept-alive client;
  the CPU is uvicorn's, the lane's, the upstream connection's and the two stand-ins'.
* ``asgi``: the proxy's ASGI handler called directly (what serves every request the lane
  does not take); the CPU is the handler's, its upstream connection's and the upstream's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
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
# One proxied GET per call, and what ends the driver.
Driver = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]


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


async def measure(requests: int, profile: bool, way: str) -> float:
    from channel_app_template.api import server as web_server
    from channel_app_template.api.app import create_app
    from channel_app_template.settings import Settings

    loop = asyncio.get_running_loop()
    upstream = await loop.create_server(Upstream, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    settings = Settings.model_validate(
        {"flower_url": f"http://127.0.0.1:{port}", "flower_basic_auth": f"{USER}:{PASSWORD}"}
    )
    web_server.configure(settings)
    app = create_app(settings)
    await app.proxy.start()
    auth = b"Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode())
    try:
        one, close = await (lane_driver(app, auth) if way == "lane" else asgi_driver(app, auth))
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
        await close()
    finally:
        await app.proxy.close()
        upstream.close()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return spent / requests


async def asgi_driver(app: Any, auth: bytes) -> Driver:
    """One proxied GET through the ASGI handler per call."""
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
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    async def one() -> None:
        await app.proxy(dict(scope), receive, send)
        if status.pop() != 200:
            raise SystemExit("the proxy did not answer 200")

    async def close() -> None:
        pass

    return one, close


async def lane_driver(app: Any, auth: bytes) -> Driver:
    """One proxied GET through uvicorn with the Procfile's protocol per call."""
    from tests.support.inprocess_web import serving

    served = serving(app)
    port = await served.__aenter__()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        b"GET /flower/api/workers HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: "
        + auth
        + b"\r\nAccept: */*\r\n\r\n"
    )

    async def one() -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 "):
            raise SystemExit(f"the proxy answered {head[:12]!r}, not 200")
        start = head.index(b"content-length: ") + 16
        await reader.readexactly(int(head[start : head.index(b"\r\n", start)]))

    async def close() -> None:
        writer.close()
        await served.__aexit__(None, None, None)

    return one, close


def main() -> None:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--way", choices=("lane", "asgi"), default="lane")
    args = parser.parse_args()
    for run in range(1, args.runs + 1):
        seconds = uvloop.run(measure(args.requests, args.profile, args.way))
        print(
            f"run {run}: {seconds * 1e6:.1f} us of CPU per proxied GET ({args.way}, in one process)"
        )


if __name__ == "__main__":
    main()
