"""A broker outage never stops the worker for good.

Real processes: a private ``redis-server``, the Omnitron simulator, the reference
marketplace, and the Procfile's literal ``worker`` and ``beat`` lines run by honcho. While
a scheduled product sync is inside a (deliberately slow) marketplace call, so its message
is unacknowledged, Redis is killed with ``SIGKILL`` and started again, empty, 30 s later
on the same port. The same worker process, never restarted, must then answer a ping
within a bound, run the next scheduled product sync by itself (redoing what the lost run
did not finish) and the scheduled order fetch, with nothing sent or created twice.

celery 5.7.0 fails this: about 2 s after the broker went away the worker logs
``Unrecoverable error: AttributeError("'NoneType' object has no attribute 'hostname'")``
and exits (celery/celery#10242 closes a connection whose transport ``collect()`` had already
cleared, and the Redis channel's ``restore_unacked`` then reads ``connection.client``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from celery import Celery

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.schedule import DEFAULT_SCHEDULE, PREFIX
from tests.support.celery_client import close_client
from tests.support.deploy import stop_group
from tests.support.marketplace import marketplace_server
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import REPO_ROOT, Service, redis_server, start
from tests.support.stack import clean_environ

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRODUCTS = 300
ORDERS = 20
OUTAGE = 30.0  # seconds the broker stays away
PING_BOUND = 60.0  # the worker answers within this after the broker is back
MARKET_DELAY_MS = 3000  # each product upsert call: the kill lands inside one
SCHEDULE: dict[str, float | None] = {name: None for name in DEFAULT_SCHEDULE} | {
    "insert_and_update_products": 8,
    "check_products": 4,
    "fetch_orders": 5,
}


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, logs: Callable[[], str]
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout:.0f}s\n{logs()[-6000:]}")


class Honcho:
    """``honcho start NAMES`` on the project's Procfile, in its own process group."""

    def __init__(self, names: list[str], env_file: Path, workdir: Path, env: dict[str, str]):
        self.log_path = workdir / f"honcho-{'-'.join(names)}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "-f",
                str(REPO_ROOT / "Procfile"),
                "-e",
                str(env_file),
                "-d",
                str(workdir),
                "start",
                *names,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_main_pids(self) -> list[int]:
        """The worker main processes (not their pool children) honcho started."""
        found = []
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    parent = child.parent()
                    if "worker" in child.cmdline() and (
                        parent is None or "worker" not in parent.cmdline()
                    ):
                        found.append(child.pid)
        return found

    def stop(self) -> None:
        stop_group(self.process)
        self.log.close()


@contextlib.contextmanager
def honcho(names: list[str], env_file: Path, workdir: Path) -> Iterator[Honcho]:
    env = clean_environ()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    running = Honcho(names, env_file, workdir, env)
    try:
        yield running
    finally:
        running.stop()


def celery_client(broker: str) -> Celery:
    client = Celery(broker=broker, backend=broker)
    client.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
    )
    return client


def ping_names(broker: str) -> set[str]:
    client = celery_client(broker)
    try:
        with contextlib.suppress(Exception):
            return {name for reply in client.control.ping(timeout=1.0) for name in reply}
        return set()
    finally:
        close_client(client)


def run_task(broker: str, name: str, timeout: float = 120) -> Any:
    client = celery_client(broker)
    try:
        return client.send_task(PREFIX + name).get(timeout=timeout)
    finally:
        close_client(client)


def write_env(
    path: Path, broker: str, sim: OmnitronSim, workdir: Path, extra: dict[str, str]
) -> None:
    # honcho and python-dotenv read this file: JSON in single quotes (see .env.example).
    path.write_text(
        "\n".join(
            [
                f"BROKER_URL={broker}",
                f"OMNITRON_URL={sim.url}/",
                "OMNITRON_USERNAME=sandbox",
                "OMNITRON_PASSWORD=sandbox",
                "OMNITRON_CHANNEL_ID=1",
                "OMNITRON_CATALOG_ID=1",
                f"BEAT_SCHEDULE='{json.dumps(SCHEDULE)}'",
                f"BEAT_SCHEDULE_FILE={workdir / 'beat-schedule'}",
                "PYTHONUNBUFFERED=1",
                *(f"{name}={value}" for name, value in extra.items()),
            ]
        )
        + "\n"
    )


def product_actions(sim: OmnitronSim) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.inspect("integration_actions/?model=product&limit=100000")[
        "results"
    ]
    return rows


def restart_empty(redis: Service) -> None:
    """The same command on the same port: no persistence, so it starts empty."""
    fresh = start("redis", redis.command, port=redis.port, log_dir=redis.log.parent)
    redis.process = fresh.process


def succeeded_runs(log: str, task: str) -> int:
    """Runs of ``task`` the worker logged as succeeded (honcho prefixes each line)."""
    return sum(
        1 for line in log.splitlines() if f"{PREFIX}{task}[" in line and " succeeded in " in line
    )


FANNED_OUT = {"FANOUT_MIN_OBJECTS": "100", "FANOUT_WINDOW": "100"}  # 3 windows of products


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fanout", [{}, FANNED_OUT], ids=["one_process", "fanned_out"])
def test_worker_survives_a_broker_outage_and_the_schedule_redoes_the_lost_run(
    fanout: dict[str, str],
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cat-outage-"))
    timings: dict[str, float] = {}
    with (
        redis_server() as redis,
        omnitron_simulator(seed_products=PRODUCTS) as sim,
        marketplace_server(batch_delay=0.2) as market,
    ):
        broker = f"redis://127.0.0.1:{redis.port}/0"
        OmnitronClient(
            f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        ).channel.update(
            {
                "conf": {
                    "remote_id_attribute": "sku",
                    "api_url": market.url,
                    "api_key": market.api_key,
                }
            }
        )
        env_file = workdir / ".env"
        write_env(env_file, broker, sim, workdir, fanout)

        with honcho(["worker"], env_file, workdir) as workers:

            def logs() -> str:
                return workers.output()

            (name,) = wait_until(lambda: ping_names(broker), 60, "the worker answered", logs)
            (worker_pid,) = wait_until(workers.worker_main_pids, 10, "worker process", logs)
            for task in (
                "create_or_update_category_tree_and_nodes",
                "create_or_update_category_attributes",
            ):
                run_task(broker, task)
            slow = market.fault(
                pattern="/api/v1/products",
                action="delay",
                delay_ms=MARKET_DELAY_MS,
                methods=["POST"],
            )

            with honcho(["beat"], env_file, workdir) as beat:

                def both_logs() -> str:
                    return f"{workers.output()}\n--- beat ---\n{beat.output()}"

                def fired() -> bool:
                    rules = market.inspect("faults/")["rules"]
                    return any(r["id"] == slow["id"] and r["fired"] >= 1 for r in rules)

                # Beat's product sync is inside the delayed marketplace call: in flight,
                # unacknowledged. Kill the broker now.
                wait_until(fired, 60, "beat's product sync reached the marketplace", both_logs)
                assert market.inspect("counts/")["products"] < PRODUCTS
                redis.stop(signal.SIGKILL)
                killed = time.monotonic()
                while time.monotonic() - killed < OUTAGE:
                    assert workers.process.poll() is None and psutil.pid_exists(worker_pid), (
                        f"the worker died during the outage\n{both_logs()[-8000:]}"
                    )
                    time.sleep(0.5)

                def synced() -> bool:
                    actions = product_actions(sim)
                    return (
                        market.inspect("counts/")["products"] == PRODUCTS
                        and len(actions) == PRODUCTS
                        and all(a["status"] == "success" for a in actions)
                    )

                # The run in flight died with the broker (it reached the marketplace but
                # could not finish): what it left undone is for the schedule to redo.
                assert not synced()
                restart_empty(redis)
                restarted = time.monotonic()
                offset = len(workers.output())
                wait_until(
                    lambda: name in ping_names(broker),
                    PING_BOUND,
                    "the same worker answered a control ping",
                    both_logs,
                )
                timings["control ping answered after restart"] = time.monotonic() - restarted
                assert run_task(broker, "ping", timeout=PING_BOUND)["pong"] is True
                timings["ping task answered after restart"] = time.monotonic() - restarted
                market.control("DELETE", f"faults/rules/{slow['id']}/")

                wait_until(synced, 240, "the schedule synced every product again", both_logs)
                timings["catalog complete after restart"] = time.monotonic() - restarted
                # ...by beat's schedule: the test itself never sends a catalog flow.
                after = workers.output()[offset:]
                assert succeeded_runs(after, "insert_and_update_products"), after[-4000:]
                assert succeeded_runs(after, "check_products"), after[-4000:]

                market.generate_orders(ORDERS, items_per_order=(1, 2), seed=11)
                wait_until(
                    lambda: market.order_counts()["acknowledged"] == ORDERS,
                    180,
                    "the scheduled order fetch brought every order in",
                    both_logs,
                )
                timings["orders in after restart"] = time.monotonic() - restarted

                # Never restarted: the same process, still running, nothing unrecoverable.
                assert workers.process.poll() is None and beat.process.poll() is None
                assert workers.worker_main_pids() == [worker_pid]
                assert "Unrecoverable error" not in workers.output()
                ran_windows = "channel_app_template.fanout_window[" in workers.output()
                assert ran_windows == bool(fanout)

        # Nothing duplicated: one mapping per product, one Omnitron order per order.
        actions = product_actions(sim)
        assert len({a["object_id"] for a in actions}) == len(actions) == PRODUCTS
        orders = sim.client().all_pages("/channel/1/orders/", limit=1000)
        numbers = collections.Counter(o["number"] for o in orders)
        assert len(numbers) == ORDERS and max(numbers.values()) == 1, numbers
    print("broker outage timings (s):", {k: round(v, 1) for k, v in timings.items()})
