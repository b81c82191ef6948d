"""``channel-app status``: workers, running and waiting tasks, recent failures, via Flower.

Exit status: 0 at least one worker is online; 1 none is; 2 the API could not be read.
Task arguments are never shown: they may carry customer data.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from channel_app_template.ops.flower_api import (
    FlowerClient,
    FlowerError,
    FlowerUnavailable,
    add_connection_arguments,
    client_from_args,
    short_task_name,
)

EXIT_OK, EXIT_NO_WORKER, EXIT_ERROR = 0, 1, 2
EPOCH_2001 = 1e9  # timestamps below this are monotonic clocks, not wall time
DEFAULT_HEARTBEAT = 2.0  # seconds; Celery's default worker heartbeat interval
# Celery keeps a node's last 4 heartbeat times. One process spaces them one interval apart
# (3 intervals from first to last); two processes answering as one node name interleave
# theirs, so the 4 fit in at most 2 intervals. The threshold sits between the two.
DUPLICATE_SPAN = 2.25


def duplicate_nodes(events: Sequence[Mapping[str, Any]], stats_pids: Mapping[str, Any]) -> set[str]:
    """Node names that more than one worker process uses: Flower keys workers by name and
    so shows one, so the evidence is indirect. A node is a duplicate when its heartbeats
    come faster than one process sends them, or when the pid in its events is not the pid
    that answered the last inspection."""
    found: set[str] = set()
    for row in events:
        name = row.get("hostname")
        if not isinstance(name, str):
            continue
        beats = sorted(b for b in row.get("heartbeats") or [] if isinstance(b, int | float))
        freq = row.get("freq")
        interval = float(freq) if isinstance(freq, int | float) and freq > 0 else DEFAULT_HEARTBEAT
        if len(beats) >= 4 and beats[-1] - beats[0] < DUPLICATE_SPAN * interval:
            found.add(name)
        pid, answered = row.get("pid"), stats_pids.get(name)
        if isinstance(pid, int) and isinstance(answered, int) and pid != answered:
            found.add(name)
    return found


def _when(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float) or timestamp < EPOCH_2001:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_line(text: Any, limit: int = 160) -> str:
    line = str(text or "").strip().split("\n")[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _task_row(item: Mapping[str, Any], worker: str) -> dict[str, Any]:
    """One active/reserved/scheduled entry; scheduled ones wrap it in ``request``."""
    request = item.get("request") if isinstance(item.get("request"), dict) else item
    assert isinstance(request, dict)
    row: dict[str, Any] = {
        "id": request.get("id"),
        "task": request.get("name") or request.get("type"),
        "worker": worker,
        "started": _when(request.get("time_start")),
    }
    if "eta" in item:
        row["eta"] = item.get("eta")
    return row


def collect(client: FlowerClient, failures: int) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data (the ``--json`` output)."""
    online = client.worker_status()
    try:
        details = client.workers(refresh=True)
    except FlowerUnavailable:
        details = client.workers()  # a failed broadcast; Flower's last known state
    for name in sorted(online):
        if not online[name]:
            continue
        with contextlib.suppress(FlowerError):  # the worker may have just gone away
            one = client.workers(refresh=True, worker=name).get(name)
            if isinstance(one, dict):
                details[name] = one
    workers: list[dict[str, Any]] = []
    active: list[dict[str, Any]] = []
    scheduled: list[dict[str, Any]] = []
    reserved: list[dict[str, Any]] = []
    for name in sorted(set(online) | set(details)):
        info = details.get(name) if isinstance(details.get(name), dict) else {}
        assert isinstance(info, dict)
        running = [_task_row(t, name) for t in info.get("active") or [] if isinstance(t, dict)]
        active += running
        scheduled += [
            _task_row(t, name) for t in info.get("scheduled") or [] if isinstance(t, dict)
        ]
        reserved += [_task_row(t, name) for t in info.get("reserved") or [] if isinstance(t, dict)]
        stats = info.get("stats") if isinstance(info.get("stats"), dict) else {}
        assert isinstance(stats, dict)
        totals = stats.get("total") if isinstance(stats.get("total"), dict) else {}
        assert isinstance(totals, dict)
        pool = stats.get("pool") if isinstance(stats.get("pool"), dict) else {}
        assert isinstance(pool, dict)
        queues = [
            str(q.get("name")) for q in info.get("active_queues") or [] if isinstance(q, dict)
        ]
        workers.append(
            {
                "name": name,
                "online": bool(online.get(name, False)),
                "active": len(running),
                "processed": sum(v for v in totals.values() if isinstance(v, int)),
                "concurrency": pool.get("max-concurrency"),
                "queues": queues,
            }
        )
    try:
        events = client.worker_events()
    except FlowerError:
        events = []  # an older Flower or a proxy that hides it: no evidence either way
    stats_pids: dict[str, Any] = {}
    for name, info in details.items():
        stats = info.get("stats") if isinstance(info, dict) else None
        if isinstance(stats, dict):
            stats_pids[name] = stats.get("pid")
    duplicates = duplicate_nodes(events, stats_pids)
    for worker in workers:
        worker["duplicate"] = worker["name"] in duplicates
    try:
        queue_lengths = [
            {"name": q.get("name"), "messages": q.get("messages")} for q in client.queue_lengths()
        ]
    except FlowerError:
        queue_lengths = []  # only some brokers support it
    failed = client.tasks(state="FAILURE", limit=failures, sort_by="-received")
    recent: list[dict[str, Any]] = []
    for task_id, task in failed.items():
        if not isinstance(task, dict):
            continue
        moment = task.get("failed") or task.get("timestamp") or task.get("received")
        recent.append(
            {
                "id": task.get("uuid") or task_id,
                "task": task.get("name"),
                "when": _when(moment),
                "worker": task.get("worker"),
                "exception": _first_line(task.get("exception")),
                "_sort": moment if isinstance(moment, int | float) else 0.0,
            }
        )
    recent.sort(key=lambda row: row["_sort"], reverse=True)
    for row in recent:
        del row["_sort"]
    return {
        "url": client.base_url,
        "workers": workers,
        "duplicate_node_names": sorted(duplicates),
        "active": active,
        "scheduled": scheduled,
        "reserved": reserved,
        "queues": queue_lengths,
        "failures": recent[:failures],
    }


def _table(rows: Sequence[Sequence[str]], out: TextIO, indent: str = "  ") -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print(indent + "  ".join(cells).rstrip(), file=out)


def _section(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], out: TextIO) -> None:
    body = list(rows)
    print(f"\n{title} ({len(body)})", file=out)
    if body:
        _table([list(header), *body], out)
    else:
        print("  none", file=out)


def render(data: Mapping[str, Any], out: TextIO) -> None:
    workers = data["workers"]
    up = sum(1 for w in workers if w["online"])
    print(f"Flower at {data['url']}/flower/: {up} of {len(workers)} worker(s) online", file=out)
    for name in data.get("duplicate_node_names", []):
        print(
            f"WARNING: more than one worker process answers as {name!r}: Flower and /health "
            "count them as one and their tasks and stats mix. Give each worker a unique node "
            "name (celery worker -n <name>@%h, or leave -n out).",
            file=out,
        )
    _section(
        "Workers",
        ("WORKER", "STATUS", "ACTIVE", "PROCESSED", "POOL", "QUEUES"),
        (
            (
                w["name"],
                ("online" if w["online"] else "OFFLINE")
                + (" (DUPLICATE)" if w.get("duplicate") else ""),
                str(w["active"]),
                str(w["processed"]),
                str(w["concurrency"] or "?"),
                ",".join(w["queues"]) or "-",
            )
            for w in workers
        ),
        out,
    )
    _section(
        "Active tasks",
        ("TASK", "ID", "WORKER", "STARTED"),
        (
            (short_task_name(t["task"]), str(t["id"]), t["worker"], t["started"] or "-")
            for t in data["active"]
        ),
        out,
    )
    waiting = [("scheduled", t) for t in data["scheduled"]] + [
        ("reserved", t) for t in data["reserved"]
    ]
    _section(
        "Scheduled and reserved tasks",
        ("TASK", "ID", "WORKER", "KIND", "ETA"),
        (
            (short_task_name(t["task"]), str(t["id"]), t["worker"], kind, str(t.get("eta") or "-"))
            for kind, t in waiting
        ),
        out,
    )
    if data["queues"]:
        _section(
            "Queues",
            ("QUEUE", "WAITING"),
            ((str(q["name"]), str(q["messages"])) for q in data["queues"]),
            out,
        )
    _section(
        "Recent failures, newest first",
        ("WHEN", "TASK", "EXCEPTION", "ID"),
        (
            (f["when"] or "-", short_task_name(f["task"]), f["exception"] or "-", str(f["id"]))
            for f in data["failures"]
        ),
        out,
    )


def run_status(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        with client_from_args(args) as client:
            data = collect(client, max(1, args.failures))
    except FlowerError as error:
        print(f"error: {error}", file=err)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(data, indent=2, default=str), file=out)
    else:
        render(data, out)
    return EXIT_OK if any(w["online"] for w in data["workers"]) else EXIT_NO_WORKER


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="workers, active and waiting tasks, recent failures (through the web process)",
        description=(
            "Ask Flower, through the web process, for workers, active/scheduled/reserved "
            "tasks and recent failures. Exit status: 0 ok, 1 no worker online, 2 API error."
        ),
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--failures",
        type=int,
        default=10,
        help="how many recent failures to show (default: %(default)s)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_status)
