"""Benchmark: list a 100,000-product catalog through our Omnitron client.

Starts the Omnitron simulator as a real process (seeded once), then, for each page size,
runs a fresh child process that lists every product through ``OmnitronClient`` and reports
requests sent, wall time, client CPU (in all and per request: the transport's cost is paid
per request) and peak RSS. A last row keeps every product in a list, to show what the
streaming iterator saves.

    /work/venv/bin/python bench/bench_omnitron_client.py [--products 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.omnitron import (  # noqa: E402
    CATALOG_ID,
    CHANNEL_ID,
    PASSWORD,
    USERNAME,
    omnitron_simulator,
)


def child(url: str, page_size: int, keep: bool) -> None:
    """Run inside a fresh process so ru_maxrss belongs to this measurement alone."""
    import psutil  # type: ignore[import-untyped]

    from channel_app_template.akinon.client import OmnitronClient
    from channel_app_template.transport import Timeouts

    client = OmnitronClient(
        url, USERNAME, PASSWORD, CHANNEL_ID, CATALOG_ID, timeouts=Timeouts(connect=5, read=120)
    )
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    cpu_started = time.process_time()
    kept = []
    count = 0
    for product in client.products.find(page_size=page_size):
        count += 1
        if keep:
            kept.append(product)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "products": count,
                "requests": client.http.stats.requests,
                "retries": client.http.stats.retries,
                "wall": wall,
                "cpu": cpu,
                "baseline_mib": baseline / 2**20,
                "peak_mib": peak_kib / 1024,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--page-sizes", default="100,500,1000")
    parser.add_argument("--child", nargs=3, metavar=("URL", "PAGE_SIZE", "KEEP"))
    args = parser.parse_args()
    if args.child:
        url, size, keep = args.child
        child(url, int(size), keep == "1")
        return 0

    seeding = time.perf_counter()
    with omnitron_simulator(seed_products=args.products) as sim:
        print(f"simulator up with {args.products} products in {time.perf_counter() - seeding:.1f}s")
        runs = [(int(size), False) for size in args.page_sizes.split(",")]
        runs.append((runs[-1][0], True))
        header = (
            f"{'page size':>9} {'mode':>9} {'products':>9} {'requests':>8} {'wall s':>7} "
            f"{'prod/s':>8} {'cpu s':>6} {'cpu ms/req':>10} {'base MiB':>8} {'peak MiB':>8}"
        )
        print(header)
        print("-" * len(header))
        for size, keep in runs:
            out = subprocess.run(
                [sys.executable, __file__, "--child", sim.url, str(size), "1" if keep else "0"],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO_ROOT,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            mode = "keep all" if keep else "stream"
            print(
                f"{size:>9} {mode:>9} {row['products']:>9} {row['requests']:>8} "
                f"{row['wall']:>7.1f} {row['products'] / row['wall']:>8.0f} {row['cpu']:>6.1f} "
                f"{row['cpu'] / row['requests'] * 1000:>10.2f} "
                f"{row['baseline_mib']:>8.1f} {row['peak_mib']:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
