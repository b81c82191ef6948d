"""A big product sync fanned out over Celery worker processes: 1 against 4.

    python bench/bench_fanout.py                          # 100,000 products at 20 ms
    python bench/bench_fanout.py --sizes 10000 --workers 1 4

For each size and worker count: fresh Redis, simulators (seeded, ``--latency-ms`` on every
request of both) and a real Celery worker from the Procfile's ``worker`` line with
``--concurrency N``; setup flows first, then ``insert_and_update_products`` is sent
through the broker and timed until every batch is settled. Printed per run: wall time,
products/s, peak RSS of the biggest worker process, the CPU seconds of every process
(worker, simulators, Redis) and the CPU bound: those seconds over the machine's cores, the
least wall time this machine could do it in, and the Omnitron simulator's CPU seconds
(one asyncio process: it cannot go faster than one core). Targets: 4 workers >= 3x faster than 1;
100,000 products with 1 worker <= 200 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._child import child_result  # noqa: E402

CLOCK = os.sysconf("SC_CLK_TCK")
TARGET_RATIO = 3.0
TARGET_ONE_WORKER_100K = 200.0


def group_processes(leader: int) -> list[int]:
    """Live pids in ``leader``'s process group (every service starts its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == leader:  # pgrp
                found.append(int(entry))
    return found


def cpu_seconds(leaders: list[int]) -> float:
    """User+system CPU of these groups' live processes and the children they reaped."""
    total = 0
    for leader in leaders:
        for pid in group_processes(leader):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / CLOCK


def peak_rss_mb(leader: int) -> float:
    """The highest VmHWM among the group's live processes."""
    peak = 0
    for pid in group_processes(leader):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def one_run(
    products: int, workers: int, latency_ms: int, window: int, in_flight: int
) -> dict[str, Any]:
    from tests.support.sync_stack import PREFIX, sync_stack

    latency = ("--latency-ms", str(latency_ms)) if latency_ms else ()
    env = {
        "FANOUT_MIN_OBJECTS": str(min(products, 20_000)),
        "FANOUT_WINDOW": str(window),
        "OMNITRON_CONCURRENCY": str(in_flight),
        "LOG_LEVEL_THIRD_PARTY": "WARNING",
    }
    with sync_stack(
        products, omnitron_args=latency, market_args=latency, concurrency=workers, **env
    ) as stack:
        for task in (
            "update_channel_conf_schema",
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
        ):
            stack.run(task)
        leaders = [
            stack.worker.process.pid,
            stack.omnitron.service.process.pid,
            stack.market.service.process.pid,
            stack.redis.process.pid,
        ]
        names = ("worker", "omnitron", "market", "redis")
        each_before = [cpu_seconds([leader]) for leader in leaders]
        started = time.monotonic()
        result = stack.celery.send_task(PREFIX + "insert_and_update_products")
        summary = result.get(timeout=3600)
        stack.until_settled("products", rounds=100_000, pause=0.2)
        wall = time.monotonic() - started
        each = [cpu_seconds([leader]) - b for leader, b in zip(leaders, each_before, strict=True)]
        cpu = sum(each)
        synced = stack.omnitron.inspect("integration_actions/?model=product&status=success&limit=1")
        runs = summary.get("runs", [{}])
        return {
            "products": products,
            "workers": workers,
            "synced": synced["count"],
            "windows": runs[0].get("windows", 0),
            "wall_s": round(wall, 1),
            "products_per_s": round(products / wall, 1),
            "cpu_s": round(cpu, 1),
            "cpu_bound_s": round(cpu / (os.cpu_count() or 1), 1),
            "cpu_by_process_s": {n: round(c, 1) for n, c in zip(names, each, strict=True)},
            # The Omnitron simulator is one asyncio process: it cannot use more than a core.
            "omnitron_bound_s": round(each[1], 1),
            "worker_peak_rss_mb": round(peak_rss_mb(stack.worker.process.pid), 1),
            # Other work on the machine takes cores from the run: the 1-minute load average.
            "load_avg": round(os.getloadavg()[0], 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--latency", type=int, default=20, help="ms added to every request")
    parser.add_argument("--window", type=int, default=5000, help="FANOUT_WINDOW")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=16,
        help="OMNITRON_CONCURRENCY of each worker process (bench_catalog's 16 by default)",
    )
    parser.add_argument("--child", nargs=5, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(*args.child)), flush=True)
        os._exit(0)  # no teardown of results whose Redis is gone
    rows = []
    for size in args.sizes:
        for workers in args.workers:
            row = child_result(__file__, size, workers, args.latency, args.window, args.in_flight)
            rows.append(row)
            print(f"done: {row}", file=sys.stderr, flush=True)
    print(
        f"{os.cpu_count()} cores, {args.latency} ms added to every request, "
        f"{args.in_flight} Omnitron requests in flight per worker process"
    )
    print(
        f"{'products':>9} {'workers':>7} {'synced':>7} {'windows':>7} {'wall s':>7} "
        f"{'prod/s':>7} {'CPU s':>7} {'CPU bound s':>11} {'Omnitron sim CPU s':>18} "
        f"{'worker peak RSS MB':>18} {'load':>5}  CPU s by process"
    )
    for r in rows:
        print(
            f"{r['products']:>9} {r['workers']:>7} {r['synced']:>7} {r['windows']:>7} "
            f"{r['wall_s']:>7} {r['products_per_s']:>7} {r['cpu_s']:>7} {r['cpu_bound_s']:>11} "
            f"{r['omnitron_bound_s']:>18} {r['worker_peak_rss_mb']:>18} {r['load_avg']:>5}  "
            f"{r['cpu_by_process_s']}"
        )
    for size in args.sizes:
        by = {r["workers"]: r for r in rows if r["products"] == size}
        if 1 in by and 4 in by:
            ratio = by[1]["wall_s"] / by[4]["wall_s"]
            floor = max(by[4]["cpu_bound_s"], by[4]["omnitron_bound_s"], by[1]["wall_s"] / 4)
            bound = by[1]["wall_s"] / floor
            verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
            print(
                f"{size}: 4 workers {ratio:.2f}x faster than 1 (target >= {TARGET_RATIO}x) "
                f"{verdict}; the machine's CPU and the one-process Omnitron simulator's CPU allow "
                f"at most {bound:.2f}x"
            )
        if size == 100_000 and 1 in by:
            one = by[1]["wall_s"]
            verdict = "PASS" if one <= TARGET_ONE_WORKER_100K else "MISS"
            target = TARGET_ONE_WORKER_100K
            print(f"100,000 with 1 worker: {one} s (target <= {target} s) {verdict}")


if __name__ == "__main__":
    main()
