"""The catalog commands through the runner's catalog jobs, and ``catalog_batches``.

Every seeded product, stock, price and image is sent as new; then Omnitron changes one
product (and its stocks, prices, images) and deletes the last, so the update and delete
commands run too. Each send is followed by its check job until no job is left running on
the remote. ``catalog_batches`` then asks that no batch is left open and every product has
a success or error outcome.
"""

from __future__ import annotations

import collections
import contextlib
import time
from typing import Any

from channel_app_template.core.engine.resources import (
    DELETED_PRODUCTS,
    IMAGES,
    PRICES,
    PRODUCTS,
    STOCKS,
    CatalogResource,
)
from channel_app_template.core.run.runner import catalog_job
from channel_app_template.kit.conformance._harness import Live, quiet
from channel_app_template.kit.conformance._returns import what
from channel_app_template.kit.simulators import OmnitronSimulator

__all__ = ["OPEN_LOCAL", "OPEN_REMOTE", "CatalogChecks", "ResourceRun", "batches", "open_batches"]

SETTLE_SECONDS = 30.0
OPEN_LOCAL = frozenset({"initialized", "commit"})
OPEN_REMOTE = frozenset({"sent_to_remote", "ongoing"})
CHANGES = (
    (STOCKS, "product_stocks", {"stock": 3}),
    (PRICES, "product_prices", {"price": "12.34"}),
    (IMAGES, "product_images", {"order": 9}),
)
"""What Omnitron changes on the first product's stocks, prices and images."""


def batches(sim: OmnitronSimulator) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.inspect("batch_requests/?limit=10000")["results"]
    return rows


def open_batches(sim: OmnitronSimulator) -> list[str]:
    """The batches left open, described."""
    return [
        f"#{b.get('id')} {b.get('content_type')} {b.get('status')}"
        for b in batches(sim)
        if b.get("status") in OPEN_LOCAL | OPEN_REMOTE
    ]


class ResourceRun:
    """One catalog job on a resource, then its check job until the remote jobs settled."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def send(self, resource: CatalogResource, kind: str) -> None:
        live, cls = self.live, type(self.live.runtime.channel)
        command = resource.command(kind)
        if not cls.supports(command):
            return
        try:
            catalog_job(resource.name, kind)(live.runtime, quiet)
        except Exception as error:
            live.report.fail(
                live.culprit(command),
                f"the engine's {resource.name} {kind} run stopped: {what(error)}",
            )
            return
        if cls.supports(resource.check):
            self._settle(resource)

    def _settle(self, resource: CatalogResource) -> None:
        report, sim = self.live.report, self.live.sim
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                catalog_job(resource.name, "check")(self.live.runtime, quiet)
            except Exception as error:
                report.fail(
                    resource.check, f"the engine's {resource.name} check stopped: {what(error)}"
                )
                return
            still = [b for b in batches(sim) if b.get("status") in OPEN_REMOTE]
            if not still:
                return
            if time.monotonic() > deadline:
                jobs = sorted({str(b.get("remote_batch_id")) for b in still})
                report.fail(
                    resource.check,
                    f"jobs {jobs[:5]} were still running after {SETTLE_SECONDS:.0f}s "
                    "(it kept returning None)",
                )
                return
            time.sleep(0.2)


class CatalogChecks:
    def __init__(self, live: Live) -> None:
        self.live = live
        self.resources = ResourceRun(live)

    def run(self) -> None:
        sim, send = self.live.sim, self.resources.send
        for resource in (PRODUCTS, STOCKS, PRICES, IMAGES):
            send(resource, "inserts")
        products = sim.all_pages("/channel/1/products/")
        if products:
            first = products[0]
            with contextlib.suppress(Exception):
                sim.api("PATCH", f"/products/{first['pk']}/", {"name": "Changed by conformance"})
            send(PRODUCTS, "updates")
            for resource, path, change in CHANGES:
                with contextlib.suppress(Exception):
                    rows = sim.api("GET", f"/{path}/?product={first['pk']}")["results"]
                    for row in rows:
                        sim.api("PATCH", f"/{path}/{row['pk']}/", change)
                send(resource, "updates")
            with contextlib.suppress(Exception):
                sim.api("DELETE", f"/products/{products[-1]['pk']}/")
            send(DELETED_PRODUCTS, "deleted")
        self._outcomes()

    def _outcomes(self) -> None:
        """``catalog_batches``: no batch left open; every product has an outcome."""
        report, sim = self.live.report, self.live.sim
        if stuck := open_batches(sim):
            report.fail("catalog_batches", f"batches left open: {stuck[:10]}")
        made = batches(sim)
        if "send_inserted_products" in self.live.supported:
            products = {p["pk"] for p in sim.all_pages("/channel/1/products/")}
            actions = sim.inspect("integration_actions/?model=product&limit=10000")["results"]
            settled = {a["object_id"] for a in actions if a.get("status") in ("success", "error")}
            statuses = collections.Counter(str(a.get("status")) for a in actions)
            report.notes.append(
                f"catalog: {len(products)} products in Omnitron, product actions {dict(statuses)}, "
                f"{len(made)} batches"
            )
            if missing := sorted(products - settled):
                report.fail(
                    "catalog_batches",
                    "send_inserted_products: products without a success or error outcome "
                    f"after the run: {missing[:10]}",
                )
        if made:
            report.ran("catalog_batches")
