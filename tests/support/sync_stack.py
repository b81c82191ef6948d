"""A channel app syncing for real: private Redis, the Omnitron simulator, the reference
marketplace and a Celery worker running the project's tasks, all separate processes.

Tasks are sent through the broker exactly as beat or Flower would send them.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache
from tests.support.celery_client import close_client
from tests.support.marketplace import MarketplaceSim, marketplace_server
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import Service, redis_server, start
from tests.support.stack import clean_environ

PREFIX = "channel_app_template.app.tasks."


@dataclass
class SyncStack:
    redis: Service
    omnitron: OmnitronSim
    market: MarketplaceSim
    worker: Service
    celery: Celery
    env: dict[str, str]
    workdir: Path
    results: list[dict[str, Any]] = field(default_factory=list)

    def run(self, task: str, timeout: float = 300.0) -> dict[str, Any]:
        """Send ``task`` through the broker and wait for its summary."""
        result = self.celery.send_task(PREFIX + task)
        summary: dict[str, Any] = result.get(timeout=timeout, propagate=True)
        self.results.append(summary)
        return summary

    def client(self) -> OmnitronClient:
        return OmnitronClient(
            f"{self.omnitron.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        )

    def until_settled(self, resource: str, rounds: int = 40, pause: float = 0.3) -> None:
        """Run ``check_<resource>`` until no batch of it is still open."""
        for _ in range(rounds):
            summary = self.run(f"check_{resource}")
            runs = summary.get("runs", [])
            if not any(run.get("still_running") for run in runs):
                open_batches = self.omnitron.inspect(
                    "batch_requests/?status=sent_to_remote&status=ongoing&limit=1"
                )["count"]
                if not open_batches:
                    return
            time.sleep(pause)
        raise AssertionError(f"{resource} batches never settled")

    def logs(self) -> str:
        return self.worker.output()[-5000:]


@contextlib.contextmanager
def sync_stack(
    products: int = 100,
    *,
    omnitron_args: tuple[str, ...] = (),
    market_args: tuple[str, ...] = (),
    batch_delay: float = 0.2,
    concurrency: int = 2,
    **extra_env: str,
) -> Iterator[SyncStack]:
    workdir = Path(tempfile.mkdtemp(prefix="cat-sync-"))
    with (
        redis_server() as redis,
        # Seeding takes about 1 s per 10,000 products on a quiet machine.
        omnitron_simulator(
            *omnitron_args, seed_products=products, start_timeout=60.0 + products / 250
        ) as sim,
        marketplace_server(*market_args, batch_delay=batch_delay) as market,
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
        env = clean_environ()
        env.update(
            {
                "BROKER_URL": broker,
                "OMNITRON_URL": f"{sim.url}/",
                "OMNITRON_USERNAME": "sandbox",
                "OMNITRON_PASSWORD": "sandbox",
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
                "PYTHONUNBUFFERED": "1",
                **extra_env,
            }
        )
        worker = start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "channel_app_template.celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "-n",
                "sync@%h",
            ],
            env=env,
            cwd=workdir,
            log_dir=workdir,
        )
        celery = Celery(broker=broker, backend=broker)
        celery.conf.update(
            task_serializer="json", result_serializer="json", accept_content=["json"]
        )
        stack = SyncStack(redis, sim, market, worker, celery, env, workdir)
        try:
            stack.run("ping", timeout=60)
            yield stack
        finally:
            worker.stop()
            close_client(celery)
