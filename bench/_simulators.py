"""What the end-to-end benchmarks share: both simulators and the engine's two sides, wired
as a deployment would be, on loopback, with an optional latency on every request."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.channel import IntegrationContext
from channel_app_template.channel.reference.integration import ChannelIntegration
from channel_app_template.core.run.runtime import channel_config
from tests.support.marketplace import marketplace_server
from tests.support.omnitron import omnitron_simulator
from tests.support.processes import redis_server


@dataclass
class Wired:
    sim: Any
    market: Any
    omnitron: OmnitronIntegration
    channel: ChannelIntegration
    cache: redis.Redis

    def omnitron_requests(self) -> int:
        return self.omnitron.requests_made()


@contextlib.contextmanager
def wired(products: int, latency_ms: int, concurrency: int, batch_delay: float) -> Iterator[Wired]:
    logging.basicConfig(level=logging.WARNING)
    latency = ("--latency-ms", str(latency_ms)) if latency_ms else ()
    with (
        redis_server() as cache_server,
        omnitron_simulator(*latency, seed_products=products) as sim,
        marketplace_server(*latency, batch_delay=batch_delay) as market,
    ):

        def client() -> OmnitronClient:
            return OmnitronClient(
                f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
            )

        main = client()
        conf = {"remote_id_attribute": "sku", "api_url": market.url, "api_key": market.api_key}
        main.channel.update({"conf": conf})
        omnitron = OmnitronIntegration(main, client_factory=client, concurrency=concurrency)
        config = channel_config(ChannelIntegration, dict(omnitron.channel.conf))
        channel = ChannelIntegration(config, IntegrationContext(1, 1, logging.getLogger("ref")))
        cache = redis.Redis(port=cache_server.port)
        try:
            yield Wired(sim, market, omnitron, channel, cache)
        finally:
            channel.close()
            omnitron.close()
            cache.close()
