"""What the end-to-end benchmarks share: both simulators and the engine's two sides, wired
as a deployment would be, on loopback, with an optional latency on every request."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

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


# --- What the flow asked of Omnitron, and what the simulator can answer ---------------------


@dataclass
class Recorded:
    """Every Omnitron call of the engine (method, path under ``/api/v1/``, query)."""

    calls: list[tuple[str, str, dict[str, Any]]]

    def gets(self) -> list[str]:
        """The GETs as request targets, to be asked again by :func:`capacity`."""
        return [
            f"/api/v1/{path}" + (f"?{urlencode(params, doseq=True)}" if params else "")
            for method, path, params in self.calls
            if method == "GET"
        ]


@contextlib.contextmanager
def recording() -> Iterator[Recorded]:
    """Note every request the Omnitron client sends while the block runs."""
    from channel_app_template.akinon.http import OmnitronHttp

    seen = Recorded([])
    original = OmnitronHttp.request

    def request(self: OmnitronHttp, method: str, path: str, **kwargs: Any) -> Any:
        seen.calls.append((method, path, dict(kwargs.get("params") or {})))
        return original(self, method, path, **kwargs)

    OmnitronHttp.request = request  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        OmnitronHttp.request = original  # type: ignore[method-assign]


def capacity(url: str, token: str, targets: list[str], clients: int, seconds: float) -> float:
    """Requests per second the simulator answers when ``clients`` keep-alive connections
    ask ``targets`` (in turn) as fast as it answers, for ``seconds``."""
    address = urlsplit(url)
    stop = time.monotonic() + seconds
    done: list[int] = []

    def client(start: int) -> None:
        conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
        headers = {"Authorization": f"Token {token}"}
        count, index = 0, start
        while time.monotonic() < stop:
            conn.request("GET", targets[index % len(targets)], headers=headers)
            conn.getresponse().read()
            count, index = count + 1, index + 1
        conn.close()
        done.append(count)

    started = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(i * len(targets) // clients,)) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = each.cpu_times()
            total += times.user + times.system
    return total


def orders_waiting(w: Wired, orders: int) -> None:
    """Categories set up, every product sent to the marketplace and settled there, then
    ``orders`` orders of five one-unit items generated on it: where the order benches
    start."""
    from channel_app_template.core.engine.flows import CatalogEngine, EngineOptions
    from channel_app_template.core.engine.journal import BatchJournal
    from channel_app_template.core.engine.resources import PRODUCTS
    from channel_app_template.core.setup import flows as setup_flows

    setup_flows.create_or_update_category_tree_and_nodes(w.omnitron, w.channel)
    setup_flows.create_or_update_category_attributes(w.omnitron, w.channel)
    engine = CatalogEngine(
        w.omnitron, w.channel, BatchJournal(w.cache, 1, 3600), EngineOptions(batch_size=1000)
    )
    engine.send(PRODUCTS, "inserts")
    while engine.check(PRODUCTS).still_running:
        time.sleep(0.1)
    spec = {"count": orders, "items_per_order": 5, "max_quantity": 1, "seed": 1}
    status, body, _ = w.market.call("POST", "/_sandbox/orders/generate/", spec)
    if status != 201:
        raise RuntimeError(f"the marketplace would not generate orders: {status} {body}")


def rate_bounds(
    count: int, requests: int, latency_ms: int, concurrency: int, own_cpu: float, sims_cpu: float
) -> tuple[float | None, float]:
    """Two ceilings on ``count`` things per second: latency (``C`` requests in flight at
    ``L`` each, ``requests`` in all; None without latency) and CPU (one process runs one
    core's worth, and every process shares the machine's cores)."""
    latency = (
        round(count * concurrency / (latency_ms / 1000 * requests), 1)
        if latency_ms and requests
        else None
    )
    cores = os.cpu_count() or 1
    cpu = min(count / max(own_cpu, 1e-6), cores * count / max(own_cpu + sims_cpu, 1e-6))
    return latency, round(cpu, 1)
