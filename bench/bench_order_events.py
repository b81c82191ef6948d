"""Order events applied per second, end to end: reference marketplace -> engine -> Omnitron.

    python bench/bench_order_events.py                  # 500 orders at 20 ms
    python bench/bench_order_events.py --orders 1000 --latencies 0 20

Both simulators run as real processes on loopback with the given latency added to every
request. Products are sent, ``--orders`` orders of five one-unit items are generated on the
marketplace and ingested (as ``bench_orders.py`` does, not timed here), then every order gets
two marketplace events: its first line cancelled and its last line moved to ``picking``.
Timed: the cancellation flow (``fetch_and_create_cancel``) and the line-update flow
(``fetch_and_update_order_items``), each with the task's own options, over all of them.

Printed per flow: events per second, Omnitron requests per event, the ingesting process's
CPU per event and the simulators' together, and the two bounds ``bench_orders.py`` prints:
latency (``events * C / (L * requests)``) and CPU (one process runs one core's worth, and all
processes share the machine's cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._child import child_result, parse_or_run_child  # noqa: E402
from bench._simulators import cpu_seconds, rate_bounds  # noqa: E402


def one_run(orders: int, latency_ms: int, concurrency: int) -> list[dict[str, Any]]:
    from bench._simulators import orders_waiting, wired
    from channel_app_template.core.inbound.ledger import Ledger
    from channel_app_template.core.inbound.order_events import OrderEvents
    from channel_app_template.core.inbound.orders import OrderIngestion, OrderOptions

    with wired(200, latency_ms, concurrency, batch_delay=0.1) as w:
        orders_waiting(w, orders)
        ingested = OrderIngestion(
            w.omnitron, w.channel, Ledger(w.cache, 1, "orders", 5), OrderOptions()
        ).run()
        assert ingested.created == orders, ingested

        market = [o for o in w.market.client().iter_orders(acknowledged=None) if o.lines]

        def make_events(order: Any) -> None:
            first, last = order.lines[0], order.lines[-1]
            cancel = {
                "lines": [{"line_id": first.line_id, "quantity": 1, "reason_code": "out_of_stock"}]
            }
            made = [
                w.market.call("POST", f"/_sandbox/orders/{order.id}/cancel/", cancel),
                w.market.call(
                    "POST",
                    f"/_sandbox/orders/{order.id}/line-update/",
                    {"line_id": last.line_id, "status": "picking"},
                ),
            ]
            assert all(status in (200, 201) for status, _, _ in made), made

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(make_events, market))

        def sims_cpu() -> float:
            return cpu_seconds(w.sim.service.process.pid) + cpu_seconds(
                w.market.service.process.pid
            )

        events = OrderEvents(w.omnitron, w.channel, Ledger(w.cache, 1, "events", 5))
        rows = []
        for flow, run in (
            ("cancel", events.cancel),
            ("update_order_items", events.update_order_items),
        ):
            requests_before = w.omnitron_requests()
            sims_before = sims_cpu()
            cpu_before = time.process_time()
            started = time.monotonic()
            summary = run()
            wall = time.monotonic() - started
            cpu = time.process_time() - cpu_before
            sims = sims_cpu()
            requests = w.omnitron_requests() - requests_before
            count = max(summary.applied, 1)
            latency_bound, cpu_bound = rate_bounds(
                count, requests, latency_ms, concurrency, cpu, sims - sims_before
            )
            rows.append(
                {
                    "flow": flow,
                    "latency_ms": latency_ms,
                    "events": len(market),
                    "applied": summary.applied,
                    "acknowledged": summary.acknowledged,
                    "failed": summary.failed,
                    "wall_s": round(wall, 2),
                    "events_per_s": round(summary.applied / wall, 1),
                    "req_per_event": round(requests / count, 2),
                    "bound_per_s": latency_bound,
                    "cpu_ms_per_event": round(cpu * 1000 / count, 2),
                    "sims_cpu_ms_per_event": round((sims - sims_before) * 1000 / count, 2),
                    "cpu_bound_per_s": cpu_bound,
                }
            )
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--latencies", type=int, nargs="+", default=[20])
    parser.add_argument("--concurrency", type=int, default=16)
    args = parse_or_run_child(parser, one_run, 3)
    if args is None:
        return
    rows: list[dict[str, Any]] = []
    for latency in args.latencies:
        rows += child_result(__file__, args.orders, latency, args.concurrency)
    print(
        f"{'flow':>18} {'latency':>7} {'events':>6} {'applied':>7} {'acked':>5} {'failed':>6} "
        f"{'wall s':>6} {'events/s':>8} {'req/event':>9} {'bound/s':>7} {'cpu ms/ev':>9} "
        f"{'sims cpu ms/ev':>14} {'cpu bound/s':>11}"
    )
    for r in rows:
        print(
            f"{r['flow']:>18} {r['latency_ms']:>5}ms {r['events']:>6} {r['applied']:>7} "
            f"{r['acknowledged']:>5} {r['failed']:>6} {r['wall_s']:>6} {r['events_per_s']:>8} "
            f"{r['req_per_event']:>9} {r['bound_per_s'] or '-':>7} {r['cpu_ms_per_event']:>9} "
            f"{r['sims_cpu_ms_per_event']:>14} {r['cpu_bound_per_s']:>11}"
        )
    print(
        f"(bound: events * C / (L * requests), C = {args.concurrency} requests in flight; "
        "cpu bound: min(1 / process cpu, cores / all cpu))"
    )


if __name__ == "__main__":
    main()
