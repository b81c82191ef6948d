"""Liveness for the PaaS probe, and a readiness report an operator can read.

``/healthz`` touches nothing, so a slow broker never gets the web process restarted.

``/health`` answers from the last result of one background probe (the broker, the
workers, Flower; each within ``HEALTH_TIMEOUT``), run at start-up and then every
``HEALTH_INTERVAL`` seconds, never more than one at a time. A call therefore costs
microseconds whatever the load, cannot make the workers answer pings, and cannot
report a false outage because a hundred calls raced each other for the broker.
Without credentials it says only ``ok`` (200) or ``unavailable`` (503); with the
credentials of any proxy user it adds what each check found, duplicate worker node
names, failed-login counters and slow-client counters. It never shows an address or a
password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from celery import Celery
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from channel_app_template.api import server
from channel_app_template.api.auth import CHALLENGE
from channel_app_template.api.login import LoginGate, Verdict
from channel_app_template.api.waits import WaitLimiter
from channel_app_template.celery_config import create_celery_app
from channel_app_template.settings import Settings

__all__ = ["HealthChecks", "HealthMonitor", "Probe", "health_router"]

logger = logging.getLogger(__name__)


def ping_workers(app: Celery, timeout: float) -> list[str]:
    """The node name of every reply to one broadcast ping (blocking: run it in a thread).

    Replies are kept as a list, not merged by name, so two workers started with the same
    ``-n`` show up twice instead of hiding each other.
    """
    replies = app.control.ping(timeout=timeout) or []
    return [name for reply in replies for name in reply]


class HealthChecks:
    """The three dependencies of a working stack, each checked within a time bound."""

    def __init__(
        self,
        settings: Settings,
        flower_session: Callable[[], aiohttp.ClientSession | None],
    ) -> None:
        self.settings = settings
        self._flower_session = flower_session
        self._celery: Celery | None = None
        self._redis: aioredis.Redis | None = None
        self._ping_running = False

    async def broker(self) -> dict[str, Any]:
        if self._redis is None:
            timeout = self.settings.health_timeout
            self._redis = aioredis.Redis.from_url(
                self.settings.broker_dsn, socket_connect_timeout=timeout, socket_timeout=timeout
            )
        await self._redis.ping()
        return {}

    async def workers(self) -> dict[str, Any]:
        if self._ping_running:  # a ping stuck past its bound must not get company
            raise RuntimeError("the previous worker ping has not returned yet")
        if self._celery is None:
            self._celery = create_celery_app(self.settings)
        self._ping_running = True
        try:
            names = await asyncio.to_thread(
                ping_workers, self._celery, self.settings.health_timeout
            )
        finally:
            self._ping_running = False
        if not names:
            raise RuntimeError("no worker answered a ping")
        counts = Counter(names)
        duplicates = sorted(name for name, seen in counts.items() if seen > 1)
        return {"workers": len(names), "nodes": sorted(counts), "duplicate_nodes": duplicates}

    async def flower(self) -> dict[str, Any]:
        session = self._flower_session()
        if session is None:
            raise RuntimeError("proxy not started")
        url = self.settings.flower_upstream + "/flower/healthcheck"
        async with session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"Flower answered {response.status}")
        return {}

    async def run(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
            "broker": self.broker,
            "workers": self.workers,
            "flower": self.flower,
        }
        results = await asyncio.gather(*(self._timed(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        return all(item["ok"] for item in report.values()), report

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None
        if self._celery is not None:
            self._celery.close()
            self._celery = None

    async def _timed(self, check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        started = time.monotonic()
        bound = self.settings.health_timeout + 1.0
        try:
            details = await asyncio.wait_for(check(), bound)
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {bound:.1f}s"}
        except Exception as error:  # a health report names the failure, it never raises
            return {"ok": False, "error": _safe_reason(error)}
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return {"ok": True, "ms": elapsed_ms, **details}


def _safe_reason(error: Exception) -> str:
    """Only the error's class, plus messages we wrote ourselves: never a URL or password."""
    if isinstance(error, RuntimeError):
        return str(error)
    return type(error).__name__


@dataclass(frozen=True)
class Probe:
    """One finished run of the checks."""

    healthy: bool
    checks: dict[str, Any]
    finished: float  # time.monotonic()
    took: float
    warnings: list[str] = field(default_factory=list)


RECHECK_AFTER_FAILURE = 5.0
"""Seconds to the next probe after a failed one (when shorter than the interval)."""


class HealthMonitor:
    """Runs the checks in the background and keeps the last result.

    Only the background loop ever runs the checks, one run at a time; ``/health`` just
    reads :attr:`last`. A result older than ``stale_after`` counts as a failure, so a
    stuck loop cannot leave a stale "ok" behind. After a failed probe the next one comes
    within ``recheck`` seconds however long the interval: a worker that was still
    starting when ``web`` probed must not read as down for a whole interval.
    """

    def __init__(
        self,
        checks: HealthChecks,
        interval: float,
        stale_after: float,
        recheck: float = RECHECK_AFTER_FAILURE,
    ) -> None:
        self.checks = checks
        self.interval = interval
        self.recheck = recheck
        self.stale_after = stale_after
        self.last: Probe | None = None
        self.probes = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="health-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.checks.close()

    async def probe(self) -> Probe:
        started = time.monotonic()
        healthy, report = await self.checks.run()
        warnings = [
            f"{name!r} answered more than once: two workers share this node name; "
            "give each worker process its own -n"
            for name in report["workers"].get("duplicate_nodes", [])
        ]
        finished = time.monotonic()
        self.last = Probe(healthy, report, finished, finished - started, warnings)
        self.probes += 1
        return self.last

    def current(self) -> tuple[str, Probe | None]:
        """``ok``, ``unavailable`` or ``starting``, and the probe that says so."""
        last = self.last
        if last is None:
            return "starting", None
        if time.monotonic() - last.finished > self.stale_after:
            return "unavailable", last
        return ("ok" if last.healthy else "unavailable"), last

    def next_probe_in(self) -> float:
        """The full interval after a healthy probe; soon after a failed or missing one."""
        if self.last is not None and self.last.healthy:
            return self.interval
        return min(self.interval, self.recheck)

    async def _loop(self) -> None:
        while True:
            try:
                await self.probe()
            except Exception:  # the loop must outlive any surprise; the report goes stale
                logger.exception("health probe failed")
            await asyncio.sleep(self.next_probe_in())


def _details(
    monitor: HealthMonitor, gate: LoginGate, waits: WaitLimiter, status: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    last = monitor.last
    if last is None:
        body["probe"] = {"state": "the first probe has not finished yet"}
    else:
        body["probe"] = {
            "probes": monitor.probes,
            "age_s": round(time.monotonic() - last.finished, 1),
            "took_ms": round(last.took * 1000, 1),
            "interval_s": monitor.interval,
            "stale_after_s": monitor.stale_after,
        }
        body["checks"] = last.checks
        body["warnings"] = last.warnings
    body["logins"] = gate.throttle.summary()
    body["waits"] = waits.summary()
    body["connections"] = server.stats.as_dict()
    return body


def health_router(monitor: HealthMonitor, gate: LoginGate, waits: WaitLimiter) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def liveness() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health")
    async def readiness(request: Request) -> JSONResponse:
        status, _ = monitor.current()
        code = 200 if status == "ok" else 503
        headers = {"Cache-Control": "no-store"}
        authorization = next(
            (v for k, v in request.scope["headers"] if k == b"authorization"), None
        )
        admission = gate.admit(request.scope, authorization)
        if admission.verdict is Verdict.ANONYMOUS:
            return JSONResponse({"status": status}, status_code=code, headers=headers)
        if admission.verdict is Verdict.THROTTLED:
            headers["Retry-After"] = str(admission.retry_after)
            return JSONResponse({"error": "too many failed logins"}, 429, headers=headers)
        if admission.verdict is Verdict.DENIED:
            headers["WWW-Authenticate"] = CHALLENGE.decode()
            return JSONResponse({"error": "authentication failed"}, 401, headers=headers)
        return JSONResponse(
            _details(monitor, gate, waits, status), status_code=code, headers=headers
        )

    return router
