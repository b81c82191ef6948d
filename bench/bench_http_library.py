"""Benchmark: client CPU per request of ``requests`` and ``httpx`` against one local server.

It also prices the layer our transport's retry loop skips (``httpx.Client.send`` on top of
the transport it already holds) and our whole client (``HttpClient.get_json``).

Why it exists: the catalog engine makes about one request per product, so the HTTP library's
CPU per request is a cost paid per product. A keep-alive asyncio server in a child process
answers every GET with the same JSON page (``--body-bytes``); the parent times ``N`` requests
per client with ``time.process_time`` (client CPU only, the server runs elsewhere).

    python bench/bench_http_library.py [--requests 3000] [--body-bytes 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def serve(port: int, body_bytes: int) -> None:
    rows = [{"pk": n, "name": "x" * 40} for n in range(max(1, body_bytes // 60))]
    body = json.dumps({"count": len(rows), "next": None, "results": rows}).encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                if not request:
                    return
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(name: str, call: Callable[[], object], count: int) -> None:
    for _ in range(50):
        call()  # warm up: connection, imports, caches
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{name:<44} {cpu / count * 1e6:>8.0f} {wall / count * 1e6:>8.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--body-bytes", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(port, args.body_bytes), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/api/v1/products/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    import httpx
    import requests

    from channel_app_template.transport import HttpClient

    session = requests.Session()
    client = httpx.Client(timeout=30)
    ours = HttpClient(f"http://127.0.0.1:{port}/", peer="bench")
    print(f"{'client':<44} {'cpu us':>8} {'wall us':>8}   (per request)")
    measure(
        "requests.Session.get().json()", lambda: session.get(url, timeout=30).json(), args.requests
    )
    measure(
        "requests stream=True, iter_content(64KiB)",
        lambda: json.loads(b"".join(session.get(url, timeout=30, stream=True).iter_content(65536))),
        args.requests,
    )
    measure("httpx.Client.get().json()", lambda: client.get(url).json(), args.requests)
    # the layer RetryingSender skips: httpx.Client.send over the same transport
    from channel_app_template.transport._network import NetworkTransport

    network = NetworkTransport(4)
    layered = httpx.Client(transport=network, follow_redirects=False, trust_env=False)

    def through_client() -> object:
        response = layered.send(layered.build_request("GET", url), stream=True)
        response.read()
        return response.close()

    def straight_to_transport() -> object:
        response = network.handle_request(layered.build_request("GET", url))
        response.read()
        return response.close()

    measure("httpx.Client.send, our NetworkTransport", through_client, args.requests)
    measure("NetworkTransport.handle_request directly", straight_to_transport, args.requests)
    measure(
        "HttpClient.get_json (capped, deadline, retry)",
        lambda: ours.get_json("api/v1/products/"),
        args.requests,
    )
    server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
