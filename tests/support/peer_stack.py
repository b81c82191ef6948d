"""A channel app whose peers misbehave on purpose: private Redis, both simulators and a
Celery worker started from the Procfile's own ``worker`` line, with short deadlines and
budgets so every bound is seconds.

Tasks go through the broker as beat would send them. :meth:`PeerStack.send` waits for one
with a memory watch on the worker's whole process tree (pool children included): the peak
RSS each process reached during the run (the kernel's high-water mark, reset before the
run) against what it held before, and a watchdog that stops the worker if it grows past
:data:`RSS_KILL` (the machine is shared).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redis
from celery import Celery

from channel_app_template.core.locks import KEY_PREFIX as LOCK_PREFIX
from tests.support.celery_client import close_client
from tests.support.marketplace import MarketplaceSim, marketplace_server
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import REPO_ROOT, Service, procfile_command, redis_server, start
from tests.support.stack import clean_environ

__all__ = ["MB", "RSS_KILL", "Outcome", "PeerStack", "peer_stack", "procfile_command"]

PREFIX = "channel_app_template.app.tasks."
MB = 1024 * 1024
RSS_KILL = 400 * MB
CACHE_DB = 1  # the app's cache (locks, ledgers, tokens) apart from the broker's database


def _status_kib(pid: int, key: str) -> int:
    """``VmRSS``/``VmHWM`` of ``pid`` from ``/proc`` (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class MemoryWatch:
    """Peak RSS growth of the worker's process tree while a run lasts.

    Per process: the high-water mark after the run minus the RSS before it (the mark is
    reset through ``/proc/PID/clear_refs`` first); a thread also samples the tree every
    50 ms, as a fallback where the mark cannot be reset, and to stop a runaway worker.
    """

    root: psutil.Process
    before: dict[int, int] = field(default_factory=dict)
    sampled_peak: int = 0
    baseline: int = 0
    killed: bool = False
    resettable: bool = True
    peaks: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def processes(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return [self.root, *self.root.children(recursive=True)]
        return []

    def _total(self) -> int:
        total = 0
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def __enter__(self) -> MemoryWatch:
        for process in self.processes():
            try:
                Path(f"/proc/{process.pid}/clear_refs").write_text("5")
            except OSError:
                self.resettable = False
            self.before[process.pid] = _status_kib(process.pid, "VmRSS") * 1024
        self.baseline = self._total()
        self.sampled_peak = self.baseline
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.sampled_peak = max(self.sampled_peak, self._total())
            if self.sampled_peak - self.baseline > RSS_KILL:
                self.killed = True
                for process in reversed(self.processes()):
                    with contextlib.suppress(psutil.Error):
                        process.kill()
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.peaks = {
            pid: _status_kib(pid, "VmHWM") * 1024 - rss for pid, rss in self.before.items()
        }

    @property
    def growth(self) -> int:
        """Bytes: the largest growth of one process (high-water marks, when they could be
        reset) or of the sampled total, whichever is larger."""
        marks = list(self.peaks.values()) if self.resettable else []
        return max(0, self.sampled_peak - self.baseline, *marks)


@dataclass
class Outcome:
    """What one task run did: Celery's state, its summary or its error, how long it took
    (send to result) and how much the worker grew meanwhile."""

    task: str
    state: str
    summary: dict[str, Any] | None
    error: str
    seconds: float
    growth: int
    log: str

    @property
    def failed(self) -> bool:
        return self.state != "SUCCESS"

    def text(self) -> str:
        """Everything a person would read about the run: the error or summary and the
        worker's log lines written during it."""
        return f"{self.error}\n{self.summary}\n{self.log}"


@dataclass
class PeerStack:
    redis: Service
    omnitron: OmnitronSim
    market: MarketplaceSim
    worker: Service
    celery: Celery
    env: dict[str, str]
    workdir: Path

    def cache(self) -> redis.Redis:
        return redis.Redis(port=self.redis.port, db=CACHE_DB)

    def held_locks(self) -> list[str]:
        client = self.cache()
        try:
            return sorted(k.decode() for k in client.scan_iter(match=f"{LOCK_PREFIX}*"))
        finally:
            client.close()

    def send(self, task: str, timeout: float = 150.0, **kwargs: Any) -> Outcome:
        """Run ``task`` through the broker; wait for its end (or ``timeout``) under a
        memory watch. A run still going at ``timeout`` is an assertion error; the worker is
        restarted so the next case gets a clean one."""
        if self.worker.process.poll() is not None:
            self.restart_worker()
        mark = len(self.worker.output())
        started = time.monotonic()
        result = self.celery.send_task(PREFIX + task, kwargs=kwargs)
        with MemoryWatch(psutil.Process(self.worker.process.pid)) as watch:
            while not result.ready():
                if watch.killed or time.monotonic() - started > timeout:
                    break
                time.sleep(0.05)
        seconds = time.monotonic() - started
        log = self.worker.output()[mark:]
        if not result.ready():
            why = "grew past the watchdog" if watch.killed else f"ran over {timeout:.0f}s"
            self.restart_worker()
            raise AssertionError(f"{task}: the run {why}\n{log[-4000:]}")
        state = result.state
        value = result.get(propagate=False)
        summary = value if isinstance(value, dict) else None
        error = "" if state == "SUCCESS" else f"{type(value).__name__}: {value}"
        result.forget()
        return Outcome(task, state, summary, error, seconds, watch.growth, log)

    def run(self, task: str, timeout: float = 150.0, **kwargs: Any) -> dict[str, Any]:
        """A run that must succeed: its summary."""
        outcome = self.send(task, timeout, **kwargs)
        assert not outcome.failed, outcome.text()[-4000:]
        assert outcome.summary is not None
        return outcome.summary

    def restart_worker(self) -> None:
        """Kill the worker's whole process group (its leader may be gone already: a pool
        child left behind would go on consuming tasks), start a new one, and wait until
        the locks the killed runs held have expired (``TASK_LOCK_TTL``)."""
        self.stop_worker(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.held_locks():
            assert time.monotonic() < deadline, f"locks stay held: {self.held_locks()}"
            time.sleep(0.2)
        self.worker = start_worker(self.env, self.workdir)
        self.run("ping", timeout=90)

    def stop_worker(self, sig: int = signal.SIGTERM) -> None:
        """Stop every process of the worker's group, the pool children included."""
        group = self.worker.process.pid
        deadline = time.monotonic() + 20
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
            while _group_alive(group) and time.monotonic() < deadline:
                time.sleep(0.1)
            os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.worker.process.wait(10)

    def logs(self) -> str:
        return self.worker.output()[-6000:]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def start_worker(env: Mapping[str, str], workdir: Path) -> Service:
    """The Procfile's ``worker`` line through ``sh -c``, with this venv's scripts first on
    ``PATH`` (what honcho does with an activated venv)."""
    bin_dir = os.path.dirname(sys.executable)
    full = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"}
    return start(
        "worker", ["sh", "-c", procfile_command("worker")], env=full, cwd=workdir, log_dir=workdir
    )


@contextlib.contextmanager
def peer_stack(
    products: int, *, market_args: tuple[str, ...] = (), **extra_env: str
) -> Iterator[PeerStack]:
    workdir = Path(tempfile.mkdtemp(prefix="cat-peers-"))
    with (
        redis_server() as broker,
        omnitron_simulator(seed_products=products) as omnitron,
        marketplace_server(*market_args, batch_delay=0.2) as market,
    ):
        url = f"redis://127.0.0.1:{broker.port}"
        omnitron.channel_conf(
            {
                "remote_id_attribute": "sku",
                "api_url": market.url,
                "api_key": market.api_key,
            },
            merge=True,
        )
        env = clean_environ()
        env.update(
            {
                "BROKER_URL": f"{url}/0",
                "CACHE_URL": f"{url}/{CACHE_DB}",
                "OMNITRON_URL": f"{omnitron.url}/",
                "OMNITRON_USERNAME": "sandbox",
                "OMNITRON_PASSWORD": "sandbox",
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONUNBUFFERED": "1",
                **extra_env,
            }
        )
        celery = Celery(broker=f"{url}/0", backend=f"{url}/0")
        celery.conf.update(
            task_serializer="json", result_serializer="json", accept_content=["json"]
        )
        worker = start_worker(env, workdir)
        stack = PeerStack(broker, omnitron, market, worker, celery, env, workdir)
        try:
            stack.run("ping", timeout=90)
            yield stack
        finally:
            stack.stop_worker()
            close_client(celery)
