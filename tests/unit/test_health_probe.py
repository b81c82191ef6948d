"""The background health probe: when it runs again after a healthy and a failed probe."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from channel_app_template.api.health import HealthChecks, HealthMonitor


class ScriptedChecks:
    """Answers each probe from a script of healthy/unhealthy results."""

    def __init__(self, *results: bool) -> None:
        self.results = list(results)
        self.runs = 0

    async def run(self) -> tuple[bool, dict[str, Any]]:
        healthy = self.results[min(self.runs, len(self.results) - 1)]
        self.runs += 1
        return healthy, {"workers": {"ok": healthy}}

    async def close(self) -> None:
        return None


async def watch(checks: ScriptedChecks, seconds: float, **kwargs: float) -> HealthMonitor:
    monitor = HealthMonitor(cast(HealthChecks, checks), **kwargs)
    monitor.start()
    await asyncio.sleep(seconds)
    await monitor.stop()
    return monitor


def test_a_failed_probe_is_rechecked_long_before_the_interval() -> None:
    """A worker still starting when web first probed reads as up within the recheck,
    not after an hour-long interval."""
    checks = ScriptedChecks(False, True)
    monitor = asyncio.run(watch(checks, 0.5, interval=3600.0, stale_after=7200.0, recheck=0.05))
    assert checks.runs == 2
    assert monitor.current()[0] == "ok"


def test_a_healthy_probe_waits_the_whole_interval() -> None:
    checks = ScriptedChecks(True)
    monitor = asyncio.run(watch(checks, 0.3, interval=3600.0, stale_after=7200.0, recheck=0.05))
    assert checks.runs == 1
    assert monitor.current()[0] == "ok"


def test_the_recheck_never_probes_more_often_than_the_interval() -> None:
    checks = ScriptedChecks(False)
    monitor = asyncio.run(watch(checks, 0.35, interval=0.2, stale_after=10.0, recheck=5.0))
    assert checks.runs == 2  # at 0 s and 0.2 s: the shorter of interval and recheck
    assert monitor.current()[0] == "unavailable"
