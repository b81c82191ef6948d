"""Benchmark the Omnitron simulator: seed 100,000 products, measure list requests/s, then
stream a ``huge_body`` fault answer and print its rate and the simulator's memory; then the
simulator's CPU per request for each kind of call the catalog engine makes (the catalog mix).

    /work/venv/bin/python bench/bench_omnitron_simulator.py [--products 100000] [--seconds 5]
        [--huge-mb 200] [--mix-products 5000] [--mix-only]

The catalog mix runs against a fresh simulator seeded with ``--mix-products`` products and
prints process CPU (user+sys of the simulator) per 1,000 requests of each kind, a number far
less noisy on a shared machine than requests/s. Target: the mix's CPU per request <= half of
what it was before this benchmark was added (MIX_BASELINE_US).

Seeding runs in-process (the same code as ``--seed-products``); the simulator then runs as a
real ``channel-app sandbox omnitron`` process on a free loopback port and several client
threads, each with one keep-alive connection, call a list endpoint for a bounded time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sim_mix import run_mix
from channel_app_template.sandbox.omnitron.seed import seed_catalog
from channel_app_template.sandbox.omnitron.store import Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError("simulator did not start")


def start_simulator(state: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A real ``channel-app sandbox omnitron`` process on ``state``, listening; (process, port)."""
    port = free_port()
    with (workdir / "sim.log").open("ab") as log:
        process = subprocess.Popen(
            [
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
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for(port)
    return process, port


def login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/api/v1/auth/login/",
        json.dumps({"username": "sandbox", "password": "sandbox"}),
        {"Content-Type": "application/json"},
    )
    key = json.loads(conn.getresponse().read())["key"]
    conn.close()
    return str(key)


def run_load(
    port: int, token: str, paths: list[str], clients: int, seconds: float
) -> tuple[int, int, list[float]]:
    """``clients`` threads hammer ``paths`` (round robin) for ``seconds``; (ok, errors, lat)."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    counts = {"ok": 0, "err": 0}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}"}
        mine: list[float] = []
        ok = err = 0
        index = offset
        while time.monotonic() < stop:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status == 200:
                ok += 1
            else:
                err += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["err"] += err

    threads = [threading.Thread(target=worker, args=(i * 7,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["ok"], counts["err"], latencies


def huge_body(port: int, token: str, pid: int, megabytes: int) -> None:
    """A ``huge_body`` fault of ``megabytes`` MB, read to the end: MB/s and simulator RSS."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rule = {"pattern": "/api/v1/products/$", "action": "huge_body", "size_bytes": megabytes * 10**6}
    conn.request("POST", "/_sandbox/faults/rules/", json.dumps(rule))
    conn.getresponse().read()
    server = psutil.Process(pid)
    server = (server.children(recursive=True) or [server])[0]
    rss_before = server.memory_info().rss
    peak = rss_before
    started = time.perf_counter()
    conn.request("GET", "/api/v1/products/?limit=100", headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    received = 0
    while chunk := response.read(1 << 20):
        received += len(chunk)
        peak = max(peak, server.memory_info().rss)
    elapsed = time.perf_counter() - started
    conn.request("DELETE", "/_sandbox/faults/")
    conn.getresponse().read()
    conn.close()
    print(
        f"\nhuge_body {received / 1e6:.0f} MB streamed in {elapsed:.1f}s "
        f"({received / 1e6 / elapsed:.0f} MB/s); simulator RSS {rss_before / 1e6:.0f} MB, "
        f"peak {peak / 1e6:.0f} MB (+{(peak - rss_before) / 1e6:.1f} MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--huge-mb", type=int, default=200, help="0 skips the huge_body run")
    parser.add_argument(
        "--mix-products", type=int, default=5000, help="catalog mix size; 0 skips the mix"
    )
    parser.add_argument("--mix-only", action="store_true", help="run only the catalog mix")
    args = parser.parse_args()
    if not 0 <= args.mix_products <= 100_000:
        parser.error("--mix-products must be within 0..100000")
    if args.mix_only:
        return run_mix(args.mix_products, start_simulator)

    workdir = Path(tempfile.mkdtemp(prefix="bench-omnitron-"))
    state = workdir / "omnitron.sqlite3"
    started = time.perf_counter()
    store = Store(str(state))
    seed_catalog(store, args.products)
    store.conn.close()
    seed_seconds = time.perf_counter() - started
    print(
        f"seeded {args.products:,} products (+2 prices, 2 stocks, images, categories each) "
        f"in {seed_seconds:.2f}s -> {state.stat().st_size / 1e6:.0f} MB"
    )

    process, port = start_simulator(state, workdir)
    try:
        token = login(port)
        rng = random.Random(1)
        pages = max(1, args.products // 100)
        scenarios = {
            "products page 1, limit 100": ["/api/v1/products/?page=1&limit=100"],
            "channel products random page, limit 100": [
                f"/api/v1/channel/1/products/?page={rng.randint(1, pages)}&limit=100"
                for _ in range(200)
            ],
            "products pk__in (50 ids)": [
                "/api/v1/channel/1/products/?limit=50&pk__in="
                + ",".join(str(rng.randint(1, args.products)) for _ in range(50))
                for _ in range(50)
            ],
            "products/inserts/ limit 100": [
                "/api/v1/channel/1/products/inserts/?product_type=0&limit=100"
            ],
            "product_prices page, limit 100": [
                f"/api/v1/channel/1/product_prices/?page={rng.randint(1, pages)}&limit=100"
                for _ in range(100)
            ],
        }
        print(
            f"\n{'scenario':<42}{'clients':>8}{'requests':>10}{'errors':>8}{'req/s':>9}"
            f"{'p50 ms':>9}{'p95 ms':>9}"
        )
        for name, paths in scenarios.items():
            for clients in args.clients:
                begun = time.perf_counter()
                ok, err, lat = run_load(port, token, paths, clients, args.seconds)
                elapsed = time.perf_counter() - begun
                lat.sort()
                p50 = statistics.median(lat) * 1000 if lat else 0.0
                p95 = lat[int(len(lat) * 0.95) - 1] * 1000 if lat else 0.0
                print(
                    f"{name:<42}{clients:>8}{ok + err:>10}{err:>8}"
                    f"{(ok + err) / elapsed:>9.0f}{p50:>9.1f}{p95:>9.1f}"
                )
        if args.huge_mb > 0:
            huge_body(port, token, process.pid, args.huge_mb)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    if args.mix_products:
        return run_mix(args.mix_products, start_simulator)
    return 0


if __name__ == "__main__":
    sys.exit(main())
