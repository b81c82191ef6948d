"""Why ``uvloop`` and ``httptools`` are runtime dependencies of ``web`` (not a test).

Run ``python bench/bench_web_server.py`` from the repository root. It starts a private
stack (redis-server, worker, Flower; see ``tests/support/stack.py``) and two ``web``
processes, one with uvicorn's fast implementations (``--loop uvloop --http httptools``,
what ``--loop auto --http auto`` picks when they are installed) and one with the pure
Python ones (``--loop asyncio --http h11``, what a plain ``uvicorn`` install gets). It then
sends ``GET /healthz`` (server overhead alone) and ``GET /flower/api/workers`` (through the
proxy) to each, in rounds that alternate which goes first, from an aiohttp load generator
on loopback, and prints requests/s and p50/p99 latency. Numbers are noisy on a shared
2-core machine.
Options: ``--duration``, ``--rounds``, ``--connections``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.processes import free_port, start
from tests.support.stack import ADMIN, running_stack

VARIANTS = {
    "uvloop+httptools": ["--loop", "uvloop", "--http", "httptools"],
    "asyncio+h11": ["--loop", "asyncio", "--http", "h11"],
}


async def load(url: str, seconds: float, connections: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``connections`` clients looping for ``seconds``."""
    token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(
        connector=connector, headers={"Authorization": f"Basic {token}"}
    ) as session:
        stop = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < stop:
                began = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url}: {response.status}")
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return (
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with running_stack() as stack:
        webs = {}
        for label, flags in VARIANTS.items():
            port = free_port()
            webs[label] = start(
                f"web-{label}",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "channel_app_template.api.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                    "--no-proxy-headers",
                    *flags,
                ],
                env=stack.env,
                port=port,
                cwd=stack.workdir,
                log_dir=stack.workdir,
            )
        try:
            for path in ("/healthz", "/flower/api/workers"):
                results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in webs}
                for round_ in range(args.rounds):
                    order = list(webs.items())
                    for label, web in order if round_ % 2 == 0 else order[::-1]:
                        url = f"http://127.0.0.1:{web.port}{path}"
                        asyncio.run(load(url, 1.0, args.connections))  # warm-up
                        results[label].append(
                            asyncio.run(load(url, args.duration, args.connections))
                        )
                print(f"\nGET {path} ({args.connections} connections, median of rounds)")
                print(f"  {'web server':<18} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
                for label, runs in results.items():
                    rps, p50, p99 = (statistics.median(r[i] for r in runs) for i in range(3))
                    print(f"  {label:<18} {rps:7.0f} {p50:7.2f} {p99:7.2f}")
        finally:
            for web in webs.values():
                web.stop()


if __name__ == "__main__":
    main()
