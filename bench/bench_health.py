"""Benchmark of ``/health`` beside ``/healthz`` under concurrent calls (not a test).

Run ``python bench/bench_health.py`` from the repository root. It starts its own private
stack (redis-server, a Celery worker, Flower, the web process; see
``tests/support/stack.py``), waits until ``/health`` says ``ok``, then sends bursts of
``--calls`` simultaneous requests (one connection each) to ``/health`` and to ``/healthz``,
alternating, and prints latency percentiles per endpoint, how many calls got anything
but 200 (a false outage), and ``/health``'s p99 as a multiple of ``/healthz``'s
(goal: within 2x). ``/healthz`` touches nothing, so it is the floor.
Options: ``--calls`` (150), ``--rounds`` (5), ``--authenticated`` (ask for details).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TARGET_RATIO = 2.0


@dataclass
class Series:
    path: str
    latencies_ms: list[float] = field(default_factory=list)
    not_ok: int = 0
    p99_per_round: list[float] = field(default_factory=list)

    def pick(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def burst(url: str, calls: int, headers: dict[str, str]) -> tuple[list[float], int]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=calls, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Event()

        async def one() -> tuple[float, int]:
            await gate.wait()
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                return (time.perf_counter() - started) * 1000, response.status

        tasks = [asyncio.ensure_future(one()) for _ in range(calls)]
        await asyncio.sleep(0.05)
        gate.set()
        results = await asyncio.gather(*tasks)
    return [ms for ms, _ in results], sum(1 for _, status in results if status != 200)


def wait_until_healthy(base: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=10).json().get("status") == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("/health never said ok; is something broken?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--authenticated", action="store_true")
    args = parser.parse_args(argv)

    from tests.support.stack import ADMIN, running_stack

    headers = {}
    if args.authenticated:
        token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    print(
        f"bench_health: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f};"
        f" {args.rounds} rounds of {args.calls} simultaneous calls per endpoint,"
        f" {'with' if args.authenticated else 'without'} credentials",
        flush=True,
    )
    began = time.monotonic()
    with running_stack() as stack:
        wait_until_healthy(stack.web_url)
        series = [Series("/healthz"), Series("/health")]
        for round_no in range(args.rounds):
            order = series if round_no % 2 == 0 else list(reversed(series))
            for s in order:
                latencies, not_ok = asyncio.run(burst(stack.web_url + s.path, args.calls, headers))
                s.latencies_ms += latencies
                s.not_ok += not_ok
                round_p99 = sorted(latencies)[min(len(latencies) - 1, int(0.99 * len(latencies)))]
                s.p99_per_round.append(round_p99)
                print(
                    f"  round {round_no + 1} {s.path:<9} p50 {statistics.median(latencies):7.1f} ms"
                    f"  p99 {round_p99:7.1f} ms  max {max(latencies):7.1f} ms  not 200: {not_ok}",
                    flush=True,
                )
    print("\n" + "=" * 72)
    print(
        f"  {'endpoint':<9} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'not 200':>8}"
    )
    for s in series:
        print(
            f"  {s.path:<9} {len(s.latencies_ms):>6} {s.pick(0.5):8.1f} {s.pick(0.99):8.1f}"
            f" {max(s.latencies_ms):8.1f} {s.not_ok:>8}"
        )
    ratios = [h / z for z, h in zip(series[0].p99_per_round, series[1].p99_per_round, strict=True)]
    ratio = statistics.median(ratios)
    verdict = "PASS" if ratio <= TARGET_RATIO and series[1].not_ok == 0 else "MISS"
    print(
        f"\n/health p99 / /healthz p99: {ratio:.2f}x (median of per-round ratios;"
        f" goal <= {TARGET_RATIO:g}x, no false outage): {verdict}"
    )
    print(f"Total time {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
