"""Liveness for the PaaS probe, and a readiness report an operator can read.

``/healthz`` touches nothing, so a slow broker never gets the web process restarted.
``/health`` checks the broker, the workers and Flower, each within a bound, and says
which is down without revealing addresses or credentials.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from channel_app_template.celery_config import create_celery_app
from channel_app_template.settings import Settings


def worker_count(settings: Settings) -> int:
    """Ping the workers through the broker; blocking, so run it in a thread."""
    app = create_celery_app(settings)
    try:
        replies = app.control.ping(timeout=settings.health_timeout)
    finally:
        app.close()
    return len(replies or [])


class HealthChecks:
    """The three dependencies of a working stack, each checked within a time bound."""

    def __init__(
        self,
        settings: Settings,
        flower_session: Callable[[], aiohttp.ClientSession | None],
    ) -> None:
        self.settings = settings
        self._flower_session = flower_session

    async def broker(self) -> dict[str, Any]:
        client = aioredis.Redis.from_url(self.settings.broker_dsn)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return {}

    async def workers(self) -> dict[str, Any]:
        count = await asyncio.to_thread(worker_count, self.settings)
        if count == 0:
            raise RuntimeError("no worker answered a ping")
        return {"workers": count}

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


def health_router(checks: HealthChecks) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def liveness() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health")
    async def readiness() -> JSONResponse:
        healthy, report = await checks.run()
        body = {"status": "ok" if healthy else "unavailable", "checks": report}
        return JSONResponse(body, status_code=200 if healthy else 503)

    return router
