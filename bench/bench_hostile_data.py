"""The hostile-data scenario at any size: the worker's memory and the time to converge.

    python bench/bench_hostile_data.py                          # 200 products, 50 orders
    python bench/bench_hostile_data.py --products 2000 --orders 500
    python bench/bench_hostile_data.py --soak 120      # then two minutes of runs on nothing

The scenario of ``tests/integration/test_hostile_data.py`` (``tests/support/hostile_data.py``):
a private Redis, both simulators, the worker and beat started from the Procfile lines;
``--products`` good products among one unreadable Omnitron row of each shape, then
``--orders`` good orders among one order of each nonsense value (a line of 10**12 units
included). It prints the worker's process-tree RSS before (warmed up, beat not started
yet), at its peak and after (beat stopped, worker idle), how long the products and the
orders took to converge, and what the flow runs did (skipped runs and what held their
lock); ``--soak`` keeps beat sending the flows after convergence and prints the RSS every
10 s. Goal: the RSS peak within 50 MB of "before", whatever the sizes, and flat while
soaking.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from channel_app_template.ops.arguments import bounded_float, bounded_int

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=bounded_int(1, 20_000), default=200)
    parser.add_argument("--orders", type=bounded_int(1, 5_000), default=50)
    parser.add_argument(
        "--soak",
        type=bounded_float(0, 3600),
        default=0,
        help="seconds beat keeps sending the flows after convergence, RSS printed every 10 s "
        "(a worker that grows by the run shows here)",
    )
    parser.add_argument(
        "--deadline",
        type=bounded_float(10, 7200),
        default=1800,
        help="seconds each phase may take (default: %(default)s)",
    )
    args = parser.parse_args()

    from tests.support.hostile_data import (
        MB,
        RssWatch,
        describe_skips,
        flow_runs,
        hostile_stack,
        run_scenario,
        stuck_skips,
        wind_down,
    )

    with hostile_stack(args.products) as stack:
        watch = RssWatch(stack.worker).start()
        outcome = run_scenario(stack, watch, args.orders, deadline=args.deadline)
        soak_started = time.monotonic()
        while time.monotonic() - soak_started < args.soak:
            time.sleep(min(10.0, args.soak - (time.monotonic() - soak_started)))
            runs = flow_runs(stack.log)
            print(
                f"soak {time.monotonic() - soak_started:5.0f} s: {len(runs)} flow runs, "
                f"RSS +{(watch.rss() - watch.baseline) / MB:.1f} MB",
                flush=True,
            )
        runs = wind_down(stack, watch, deadline=args.deadline)
        after = watch.rss()
    skipped = [r for r in runs if r.skipped]
    print(f"{args.products} good products, {args.orders} good orders, plus one of each bad kind")
    print(
        f"worker RSS: before {watch.baseline / MB:.1f} MB, peak {watch.peak / MB:.1f} MB "
        f"(+{watch.growth / MB:.1f} MB), after {after / MB:.1f} MB"
    )
    print(
        f"converged: products {outcome.products_seconds:.1f} s, orders "
        f"{outcome.orders_seconds:.1f} s, total {outcome.converged_seconds:.1f} s"
    )
    expired = sum(r.state == "REVOKED" for r in runs)
    print(f"flow runs: {len(runs)}, skipped {len(skipped)}, expired in the queue {expired}")
    for line in describe_skips(runs):
        print(line)
    for problem in stuck_skips(runs):
        print(f"  STUCK: {problem}")


if __name__ == "__main__":
    main()
