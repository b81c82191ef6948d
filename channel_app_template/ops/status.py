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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TextIO

from channel_app_template.ops.arguments import bounded_int
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
# Celery keeps a node's last 4 heartbeat times (as Flower received them). One process
# spaces them one interval apart (3 intervals first to last); two processes answering as
# one node name interleave theirs, so the 4 fit in at most 2 intervals.
DUPLICATE_SPAN = 2.25
CONFIRM_WINDOW = 0.9  # of an interval: one process sends at most one heartbeat in it
CONFIRM_POLL = 0.3


def _interval(row: Mapping[str, Any]) -> float:
    freq = row.get("freq")
    return float(freq) if isinstance(freq, int | float) and 0 < freq <= 60 else DEFAULT_HEARTBEAT


def _beats(row: Mapping[str, Any]) -> list[float]:
    return sorted(float(b) for b in row.get("heartbeats") or [] if isinstance(b, int | float))


def duplicate_suspects(
    events: Sequence[Mapping[str, Any]], stats_pids: Mapping[str, Any]
) -> set[str]:
    """Node names that may be used by more than one worker process: their heartbeats come
    faster than one process sends them, or the pid of their events is not the pid that
    answered the last inspection. Flower keys workers by name, so the evidence is indirect."""
    found: set[str] = set()
    for row in events:
        name = row.get("hostname")
        if not isinstance(name, str):
            continue
        beats = _beats(row)
        if len(beats) >= 4 and beats[-1] - beats[0] < DUPLICATE_SPAN * _interval(row):
            found.add(name)
        pid, answered = row.get("pid"), stats_pids.get(name)
        if isinstance(pid, int) and isinstance(answered, int) and pid != answered:
            found.add(name)
    return found


def confirm_duplicates(
    client: FlowerClient,
    suspects: set[str],
    events: Sequence[Mapping[str, Any]],
    stats_pids: Mapping[str, Any],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> set[str]:
    """Watch the suspects for most of one heartbeat interval. Two pids, or two new
    heartbeats (one process sends one), prove two processes; heartbeats that merely
    arrived together after Flower was busy prove nothing and are not reported."""
    rows: dict[str, Mapping[str, Any]] = {
        r["hostname"]: r
        for r in events
        if isinstance(r.get("hostname"), str) and r["hostname"] in suspects
    }
    if not rows:
        return set()
    pids = {name: {r.get("pid"), stats_pids.get(name)} - {None} for name, r in rows.items()}
    newest = {name: max(_beats(r), default=0.0) for name, r in rows.items()}
    fresh: dict[str, set[float]] = {name: set() for name in rows}
    deadline = clock() + CONFIRM_WINDOW * max(_interval(r) for r in rows.values())
    while clock() < deadline:
        sleep(CONFIRM_POLL)
        try:
            later = client.worker_events()
        except FlowerError:
            break
        for row in later:
            name = row.get("hostname")
            if isinstance(name, str) and name in rows:
                pids[name].add(row.get("pid"))
                fresh[name] |= {b for b in _beats(row) if b > newest[name]}
    return {name for name in rows if len(pids[name] - {None}) >= 2 or len(fresh[name]) >= 2}


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
    suspects = duplicate_suspects(events, stats_pids)
    duplicates = confirm_duplicates(client, suspects, events, stats_pids) if suspects else set()
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
        type=bounded_int(1, 1000),
        default=10,
        help="how many recent failures to show (default: %(default)s)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_status)
