"""The hostile-data scenario with real processes, shared by its test and its benchmark.

Good products and orders sit among one of each bad kind the hostile-data review found:
unreadable Omnitron product rows of several shapes, a ``modified_date`` that is no date or
lies in 2099, a row without a pk, and marketplace orders carrying each nonsense value (a
quantity of 10**12, negative prices and tax, a discount above the price, currency XXXX,
one product on two lines, a 10 KB title, an unparsable price). Everything runs as it is
deployed: a private Redis, both simulators, and the Celery worker and beat started from
the literal ``Procfile`` lines, beat sending the catalog and order flows on a fast schedule.

Three recorders watch the run:

* :class:`RssWatch` samples the worker's process tree (its pool children included) and
  stops the worker if it balloons, so the scenario is safe on code that expands an order
  line per unit;
* :class:`TaskLog` records every Celery event the worker and beat send (what Flower sees);
* :func:`flow_runs` joins those events with the summaries in the result backend into one
  :class:`FlowRun` per task run, and :func:`stuck_skips` names the runs that were skipped
  while the run holding their lock was stuck.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from celery import Celery
from celery.events.receiver import EventReceiver
from celery.exceptions import TimeoutError as CeleryTimeout

from channel_app_template.core.run.runner import JOBS, Job
from channel_app_template.schedule import DEFAULT_SCHEDULE, PREFIX
from tests.support.bad_rows import plant_product
from tests.support.celery_client import close_client
from tests.support.hostile_orders import ORDER_KINDS, plant_order
from tests.support.marketplace import MarketplaceSim, marketplace_server
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import Service, procfile_command, redis_server, start
from tests.support.stack import clean_environ

__all__ = [
    "BAD_DATES",
    "BAD_PRODUCTS",
    "MB",
    "NO_PK",
    "SCHEDULE",
    "STALL_SECONDS",
    "FlowRun",
    "HostileStack",
    "Outcome",
    "RssWatch",
    "TaskLog",
    "describe_skips",
    "flow_runs",
    "hostile_stack",
    "market_skus",
    "omnitron_orders",
    "plant_orders",
    "product_actions",
    "run_scenario",
    "stuck_skips",
    "unacknowledged",
    "wait_for",
    "wind_down",
]

MB = 1024 * 1024
RSS_KILL = 400 * MB  # past this growth the watchdog stops the worker: the machine is shared
STALL_SECONDS = 120.0
"""``FLOW_STALL_TIMEOUT`` of the scenario's worker: a run that holds its flow's lock this
long without a sign of progress is what "stuck" means (the engine's own definition)."""
TIME_BUDGET_SECONDS = 900.0  # FLOW_TIME_BUDGET of the scenario's worker
ORDER_ATTEMPTS = 2  # ORDER_MAX_ATTEMPTS: bad orders are parked after their second run

SCHEDULE: dict[str, float] = {
    "insert_and_update_products": 5,
    "check_products": 3,
    "fetch_orders": 3,
    "update_orders": 7,  # shares fetch_orders' lock: overlaps are expected, and legitimate
    "check_orders": 11,
}
"""What beat sends, in seconds; every other flow of the default schedule is switched off."""

BAD_PRODUCTS: dict[str, dict[str, Any]] = {
    "attributes_null": {"values": {"attributes": None}},
    "attributes_list": {"values": {"attributes": ["planted"]}},
    "parent_text": {"values": {"parent": "not-a-pk"}},
    "is_active_text": {"values": {"is_active": "sometimes"}},
    "extra_attributes_text": {"values": {"extra_attributes": "planted"}},
    "modified_date_text": {"values": {"modified_date": "not-a-date"}},
    "modified_date_2099": {"values": {"modified_date": "2099-01-01T00:00:00.000000Z"}},
    "no_pk": {"omit": ["pk"]},
}
"""Unreadable or unsendable Omnitron product rows, each planted over one seeded product
through the simulator's ``/_sandbox/raw/`` route (see :func:`bad_rows.plant_product`)."""
BAD_DATES = frozenset({"modified_date_text", "modified_date_2099"})
NO_PK = "no_pk"


# --- Memory ----------------------------------------------------------------------------


class RssWatch:
    """The worker's process tree's RSS: ``baseline`` when made, ``peak`` while running."""

    def __init__(self, worker: Service, kill_above: int = RSS_KILL) -> None:
        self.root = psutil.Process(worker.process.pid)
        self.kill_above = kill_above
        self.baseline = self.rss()
        self.peak = self.baseline
        self.killed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rss-watch", daemon=True)

    def rss(self) -> int:
        total = 0
        with contextlib.suppress(psutil.Error):
            for process in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.rss())
            if self.peak - self.baseline > self.kill_above:
                self.killed = True
                with contextlib.suppress(psutil.Error):
                    for process in [*self.root.children(recursive=True), self.root]:
                        with contextlib.suppress(psutil.Error):
                            process.kill()
                return

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def start(self) -> RssWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


# --- What the worker and beat did --------------------------------------------------------


class _Receiver(EventReceiver):
    """An event receiver that says when it listens (events are not kept for late comers)."""

    listening: threading.Event

    def on_consume_ready(self, *args: Any, **kwargs: Any) -> None:
        super().on_consume_ready(*args, **kwargs)
        self.listening.set()


class TaskLog:
    """Every task event sent on the broker (``task-sent`` by beat, ``task-started``,
    ``task-progress``, ``task-succeeded``...), recorded in a thread, as Flower sees them."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.events: list[dict[str, Any]] = []
        self._summaries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._receiver: _Receiver | None = None
        self._thread = threading.Thread(target=self._run, name="task-log", daemon=True)
        self._listening = threading.Event()

    def _record(self, event: dict[str, Any]) -> None:
        if str(event.get("type", "")).startswith("task-"):
            with self._lock:
                self.events.append(dict(event))

    def _run(self) -> None:
        with self.app.connection_for_read() as connection:
            receiver = _Receiver(connection, handlers={"*": self._record}, app=self.app)
            receiver.listening = self._listening
            self._receiver = receiver
            receiver.capture(limit=None, timeout=None, wakeup=False)

    def start(self, timeout: float = 30.0) -> TaskLog:
        self._thread.start()
        if not self._listening.wait(timeout):
            raise TimeoutError("the event receiver never started listening")
        return self

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        if self._thread.is_alive():
            self._thread.join(10)

    def summary(self, uuid: str) -> dict[str, Any]:
        """A finished task's result from the result backend (read once: it is final)."""
        if uuid not in self._summaries:
            result = self.app.backend.get_task_meta(uuid).get("result")
            self._summaries[uuid] = (
                result if isinstance(result, dict) else {"unexpected": repr(result)}
            )
        return self._summaries[uuid]

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def in_flight(self) -> list[str]:
        """Ids of tasks sent by beat, received or started that have not finished yet."""
        open_: dict[str, bool] = {}
        for event in self.snapshot():
            kind, uuid = event["type"], str(event.get("uuid", ""))
            if kind in ("task-sent", "task-received", "task-started"):
                open_.setdefault(uuid, True)
            elif kind in ("task-succeeded", "task-failed", "task-revoked", "task-rejected"):
                open_[uuid] = False
        return [uuid for uuid, running in open_.items() if running]


@dataclass
class FlowRun:
    """One run of a flow task: when it ran, its signs of life, and its summary."""

    uuid: str
    name: str  # short task name
    lock: str
    sent_by_beat: bool
    started: float | None = None
    ended: float | None = None
    state: str = "PENDING"
    heartbeats: list[float] = field(default_factory=list)  # started, progress, end
    summary: dict[str, Any] | None = None
    error: str | None = None  # the exception of a failed run, as its event carries it

    @property
    def skipped(self) -> bool:
        return bool(self.summary and "skipped" in self.summary)

    @property
    def stopped(self) -> list[str]:
        """Why the run (or one of its parts) stopped early: over budget, stalled."""
        if not self.summary:
            return []
        found = [self.summary["stopped"]] if self.summary.get("stopped") else []
        runs = self.summary.get("runs", [])
        return found + [run["stopped"] for run in runs if run.get("stopped")]

    @property
    def longest_silence(self) -> float:
        """The longest time without a sign of progress (for a run that has not ended:
        until now)."""
        beats = sorted([*self.heartbeats, self.ended if self.ended else time.time()])
        return max((b - a for a, b in itertools.pairwise(beats)), default=0.0)


def _lock_of(job: Job, event: dict[str, Any]) -> str:
    """The lock a run takes; events carry keyword arguments as their repr."""
    if job.lock_for is None:
        return job.lock_name
    try:
        kwargs = ast.literal_eval(str(event.get("kwargs") or "{}"))
        return job.lock_for(kwargs if isinstance(kwargs, dict) else {})
    except (ValueError, SyntaxError):
        return job.lock_name


def flow_runs(log: TaskLog) -> list[FlowRun]:
    """Every run of a flow task the worker received, with its summary from the result
    backend (where Flower, ``status`` and ``trigger --wait`` read it)."""
    runs: dict[str, FlowRun] = {}
    beat_sent: set[str] = set()
    for event in sorted(log.snapshot(), key=lambda e: float(e.get("timestamp", 0))):
        kind, uuid = event["type"], str(event.get("uuid", ""))
        stamp = float(event.get("timestamp", 0))
        if kind == "task-sent":
            beat_sent.add(uuid)
        name = str(event.get("name") or "")
        if kind == "task-received" and name.startswith(PREFIX):
            short = name.removeprefix(PREFIX)
            job = JOBS.get(short)
            if job is not None:
                runs[uuid] = FlowRun(uuid, short, _lock_of(job, event), sent_by_beat=False)
        run = runs.get(uuid)
        if run is None:
            continue
        if kind == "task-started":
            run.started = stamp
            run.state = "STARTED"
            run.heartbeats.append(stamp)
        elif kind == "task-progress":
            run.heartbeats.append(stamp)
        elif kind in ("task-succeeded", "task-failed", "task-revoked", "task-rejected"):
            run.ended = stamp
            run.state = {
                "task-succeeded": "SUCCESS",
                "task-failed": "FAILURE",
                "task-revoked": "REVOKED",
                "task-rejected": "REJECTED",
            }[kind]
            if run.started is not None:
                run.heartbeats.append(stamp)
            if kind == "task-failed":
                run.error = str(event.get("exception", ""))[:500]
    for run in runs.values():
        run.sent_by_beat = run.uuid in beat_sent
        if run.state == "SUCCESS":
            run.summary = log.summary(run.uuid)
    return sorted(runs.values(), key=lambda r: r.started or r.ended or 0.0)


def _holders(runs: list[FlowRun], skipped: FlowRun) -> list[FlowRun]:
    """The runs that may have held ``skipped``'s lock while it looked: runs of its flow
    (or of a flow sharing its lock) that were running at some point while it ran."""
    slack = 1.0  # event timestamps are taken just around the lock's acquire and release
    begin, end = skipped.started or 0.0, skipped.ended or time.time()
    return [
        r
        for r in runs
        if r is not skipped
        and r.lock == skipped.lock
        and not r.skipped
        and r.started is not None
        and r.started <= end + slack
        and (r.ended is None or r.ended >= begin - slack)
    ]


def describe_skips(runs: list[FlowRun]) -> list[str]:
    """One line per skipped run: what held its lock, how long, its longest silence."""
    lines = []
    for skipped in (r for r in runs if r.skipped):
        held = ", ".join(
            f"{h.name} ({(h.ended or time.time()) - (h.started or 0):.1f}s, "
            f"longest silence {h.longest_silence:.1f}s)"
            for h in _holders(runs, skipped)
        )
        lines.append(f"  skipped {skipped.name}: {skipped.lock} held by {held or 'nothing'}")
    return lines


def stuck_skips(runs: list[FlowRun], stall: float = STALL_SECONDS) -> list[str]:
    """Skipped runs that waited on a stuck run, each with the reason.

    A run is skipped when another run holds its flow's lock (runs of tasks that share a
    lock, e.g. ``fetch_orders`` and ``update_orders``, count as one flow). That is the
    expected overlap when the holder was legitimately busy: it was running at the time,
    finished successfully, was not stopped for going over its budget or stalling, and was
    never ``stall`` seconds without a sign of progress (its start, each progress report,
    its end). A skip without such a holder waited on a stuck one: a run that made no
    progress, died holding the lock, or never finished.
    """
    problems = []
    for skipped in (r for r in runs if r.skipped):
        holders = _holders(runs, skipped)
        if not holders:
            problems.append(f"{skipped.name} {skipped.uuid}: no run held {skipped.lock}")
            continue
        for holder in holders:
            why = []
            if holder.state != "SUCCESS":
                why.append(f"it ended {holder.state}" if holder.ended else "it never ended")
            if holder.stopped:
                why.append(f"it was stopped: {holder.stopped}")
            if holder.longest_silence > stall:
                why.append(f"it went {holder.longest_silence:.0f}s without progress")
            if why:
                problems.append(
                    f"{skipped.name} {skipped.uuid} skipped while {holder.name} "
                    f"{holder.uuid} held {skipped.lock}: " + "; ".join(why)
                )
    return problems


# --- The stack -------------------------------------------------------------------------


def start_procfile_process(name: str, env: dict[str, str], workdir: Path) -> Service:
    """Run the Procfile line through a shell, as honcho and ACC do, with this venv's
    executables first on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    full = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    return start(name, ["sh", "-c", procfile_command(name)], env=full, cwd=workdir, log_dir=workdir)


@dataclass
class HostileStack:
    omnitron: OmnitronSim
    market: MarketplaceSim
    worker: Service
    celery: Celery
    log: TaskLog
    env: dict[str, str]
    workdir: Path
    good_products: dict[int, str]  # pk -> sku
    bad_products: dict[str, int]  # shape -> pk
    beat: Service | None = None

    def run(self, task: str, timeout: float = 300.0, **kwargs: Any) -> dict[str, Any]:
        """Send ``task`` through the broker, as Flower or an operator would; its result."""
        result = self.celery.send_task(PREFIX + task, kwargs=kwargs)
        summary: dict[str, Any] = result.get(timeout=timeout, propagate=True)
        return summary

    def parked_orders(self, timeout: float = 60.0) -> set[str] | None:
        """Numbers of the parked orders (``list_parked_orders``), or None if the worker
        did not answer in time (a poll tries again)."""
        try:
            return set(self.run("list_parked_orders", timeout=timeout)["parked"])
        except CeleryTimeout:
            return None

    def start_beat(self) -> None:
        self.beat = start_procfile_process("beat", self.env, self.workdir)

    def stop_beat(self) -> None:
        if self.beat is not None:
            self.beat.stop()

    def logs(self) -> str:
        parts = [("worker", self.worker)] + ([("beat", self.beat)] if self.beat else [])
        return "\n".join(f"--- {name} ---\n{s.output()[-4000:]}" for name, s in parts)


def beat_schedule() -> str:
    """``BEAT_SCHEDULE``: :data:`SCHEDULE`, and every other default flow switched off."""
    return json.dumps({name: SCHEDULE.get(name) for name in DEFAULT_SCHEDULE})


@contextlib.contextmanager
def hostile_stack(products: int = 200) -> Iterator[HostileStack]:
    """Redis, both simulators (``products`` good ones and one of each :data:`BAD_PRODUCTS`
    in Omnitron), the channel set up (category tree and attributes), and the worker
    running; beat is started by the caller (:meth:`HostileStack.start_beat`)."""
    workdir = Path(tempfile.mkdtemp(prefix="cat-hostile-"))
    with (
        redis_server() as redis,
        omnitron_simulator(seed_products=products + len(BAD_PRODUCTS)) as sim,
        marketplace_server(batch_delay=0.2) as market,
    ):
        broker = f"redis://127.0.0.1:{redis.port}/0"
        conf = {"remote_id_attribute": "sku", "api_url": market.url, "api_key": market.api_key}
        sim.channel_conf(conf, merge=True)
        seeded = sim.client().all_pages("/channel/1/products/", limit=500)
        skus = {row["pk"]: row["sku"] for row in sorted(seeded, key=lambda row: row["pk"])}
        bad = dict(zip(BAD_PRODUCTS, list(skus)[products:], strict=True))
        for shape, pk in bad.items():
            plant_product(sim, pk, **BAD_PRODUCTS[shape])
        good = {pk: sku for pk, sku in skus.items() if pk not in bad.values()}
        env = clean_environ()
        env.update(
            {
                "BROKER_URL": broker,
                "OMNITRON_URL": f"{sim.url}/",
                "OMNITRON_USERNAME": "sandbox",
                "OMNITRON_PASSWORD": "sandbox",
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
                "ORDER_MAX_ATTEMPTS": str(ORDER_ATTEMPTS),
                "FLOW_STALL_TIMEOUT": str(STALL_SECONDS),
                "FLOW_TIME_BUDGET": str(TIME_BUDGET_SECONDS),
                "BEAT_SCHEDULE": beat_schedule(),
                "BEAT_SCHEDULE_FILE": str(workdir / "beat-schedule"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        celery = Celery(broker=broker, backend=broker)
        celery.conf.update(
            task_serializer="json", result_serializer="json", accept_content=["json"]
        )
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(close_client, celery)
            log = TaskLog(celery)
            cleanup.callback(log.stop)
            log.start()  # before the worker: events are not kept for late listeners
            worker = start_procfile_process("worker", env, workdir)
            cleanup.callback(worker.stop)
            stack = HostileStack(sim, market, worker, celery, log, env, workdir, good, bad)
            cleanup.callback(stack.stop_beat)
            stack.run("ping", timeout=120)
            for task in (
                "create_or_update_category_tree_and_nodes",
                "create_or_update_category_attributes",
            ):
                stack.run(task)
            yield stack


# --- Reading the simulators --------------------------------------------------------------


def product_actions(stack: HostileStack) -> dict[int, list[dict[str, Any]]]:
    """Omnitron's product integration actions of the channel, by product pk."""
    rows = stack.omnitron.inspect("integration_actions/?model=product&limit=100000")["results"]
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["object_id"], []).append(row)
    return found


def market_skus(stack: HostileStack) -> set[str]:
    return {p.sku for p in stack.market.client().iter_products()}


def unacknowledged(stack: HostileStack) -> set[str]:
    """Numbers of the orders the marketplace still lists as new."""
    numbers: set[str] = set()
    cursor = ""
    while True:
        path = f"/api/v1/orders?acknowledged=false&limit=1000{cursor}"
        status, body, _ = stack.market.call("GET", path)
        assert status == 200, body
        numbers |= {o["number"] for o in body["items"]}
        if not body.get("next_cursor"):
            return numbers
        cursor = f"&cursor={body['next_cursor']}"


def omnitron_orders(stack: HostileStack) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = stack.omnitron.client().all_pages("/channel/1/orders/", limit=500)
    return rows


# --- The scenario ------------------------------------------------------------------------


@dataclass
class Outcome:
    """What was planted, and how long each phase took."""

    good_orders: dict[str, str]  # number -> marketplace order id
    bad_orders: dict[str, str]  # number -> kind
    products_seconds: float  # beat started -> every good product synced
    orders_seconds: float  # orders planted -> every one created and acknowledged, or parked

    @property
    def converged_seconds(self) -> float:
        return self.products_seconds + self.orders_seconds


def run_scenario(stack: HostileStack, watch: RssWatch, orders: int, *, deadline: float) -> Outcome:
    """Beat on; the good products synced; then ``orders`` good orders and one of each
    bad kind planted, until the good ones are in Omnitron and acknowledged and the bad
    ones parked. ``deadline``: seconds each phase may take."""
    stack.start_beat()
    good_skus = set(stack.good_products.values())

    def products_synced() -> bool:
        actions = product_actions(stack)
        return all(
            [a["status"] for a in actions.get(pk, [])] == ["success"] for pk in stack.good_products
        ) and good_skus <= market_skus(stack)

    products = wait_for("the good products synced", products_synced, stack, watch, timeout=deadline)
    good_orders, bad_orders = plant_orders(stack.market, orders)

    def orders_settled() -> bool:
        if set(good_orders) - {o["number"] for o in omnitron_orders(stack)}:
            return False
        if set(good_orders) & unacknowledged(stack):
            return False
        parked = stack.parked_orders()
        return parked is not None and set(bad_orders) <= parked

    settled = wait_for("the orders handled", orders_settled, stack, watch, timeout=deadline)
    return Outcome(good_orders, bad_orders, products, settled)


def wind_down(stack: HostileStack, watch: RssWatch, *, deadline: float) -> list[FlowRun]:
    """Every scheduled flow runs in full once more (so a re-send, re-create or re-report
    would show), then beat stops and the worker finishes what it has; the flow runs."""
    settled_at = time.time()

    def one_more_run_of_each() -> bool:
        done = {
            r.name
            for r in flow_runs(stack.log)
            if r.sent_by_beat and r.state == "SUCCESS" and not r.skipped
            and (r.started or 0) > settled_at
        }  # fmt: skip
        return set(SCHEDULE) <= done

    wait_for("one more run of every flow", one_more_run_of_each, stack, watch, timeout=deadline)
    stack.stop_beat()
    wait_for("the worker idle", lambda: not stack.log.in_flight(), stack, watch, timeout=deadline)
    watch.stop()
    return flow_runs(stack.log)


# --- Planting the orders and waiting for the end ------------------------------------------


def plant_orders(market: MarketplaceSim, good: int) -> tuple[dict[str, str], dict[str, str]]:
    """``good`` generated orders and one planted order of each :data:`ORDER_KINDS`:
    ({number: order id} of the good ones, {number: kind} of the bad ones)."""
    made = market.generate_orders(
        good, items_per_order=[1, 3], seed=11, max_quantity=3, number_prefix="G-"
    )
    first, last = (int(made[key][2:]) for key in ("first_order_id", "last_order_id"))
    ids = [f"MO{seq:08d}" for seq in range(first, last + 1)]
    good_orders = {market.order(i)["served"]["number"]: i for i in ids}
    bad_orders = {plant_order(market, kind, "B-")["number"]: kind for kind in ORDER_KINDS}
    return good_orders, bad_orders


def wait_for(
    what: str,
    done: Callable[[], bool],
    stack: HostileStack,
    watch: RssWatch,
    *,
    timeout: float,
    pause: float = 1.0,
) -> float:
    """Poll ``done`` until true; the seconds it took. Gives up at once when the run cannot
    get there: the watchdog stopped the worker, or a flow run failed or was stopped."""
    started = time.monotonic()
    while not done():
        if watch.killed:
            stuck = stuck_skips(flow_runs(stack.log))
            raise AssertionError(
                f"waiting for {what}: the worker grew past {watch.kill_above // MB} MB "
                f"and was stopped; {len(stuck)} runs were skipped behind a stuck one"
                + "".join(f"\n  {problem}" for problem in stuck[:5])
            )
        broken = [
            f"{r.name} {r.state}: {r.error or r.stopped}"
            for r in flow_runs(stack.log)
            if r.state == "FAILURE" or r.stopped
        ]
        if broken:
            raise AssertionError(f"waiting for {what}: " + "; ".join(broken[:3]))
        if time.monotonic() - started > timeout:
            raise AssertionError(
                f"{what} did not happen within {timeout:.0f}s (worker RSS "
                f"+{watch.growth / MB:.0f} MB at its peak, {len(stack.log.in_flight())} tasks "
                f"unfinished)\n{stack.logs()}"
            )
        time.sleep(pause)
    return time.monotonic() - started
