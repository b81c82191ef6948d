"""The catalog engine's request mix against a real Omnitron simulator process, measured as the
simulator's CPU time (user+sys) per 1,000 requests of each kind.

Why CPU and not requests/s: the machine is shared, so wall time is noisy; the simulator's own
CPU per request is what bounds the catalog benchmark when everything runs on two cores.
Each kind runs as its own phase so the process CPU delta of the phase belongs to that kind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench._simulators import cpu_seconds

__all__ = ["MIX_BASELINE_US", "StartSimulator", "run_mix"]

StartSimulator = Callable[[Path, Path], tuple[subprocess.Popen[bytes], int]]

BATCH = 100  # objects per commit, the engine's default page/batch size
MAX_BATCHES = 50
# CPU per request of the whole mix (us), measured on perf-sim's base (main b115791) with
# --mix-products 5000 on the 2-core machine; the target is half of it.
MIX_BASELINE_US = 6500.0


@dataclass
class Phase:
    name: str
    requests: int
    cpu_s: float
    wall_s: float


class Client:
    """One keep-alive connection with the login token; fails loudly on an unexpected status."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = ""
        self.token = str(self.call("POST", "/api/v1/auth/login/", _LOGIN)["key"])

    def call(self, method: str, path: str, body: Any = None, want: int = 200) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        self.conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.status not in (want, 200, 201):
            raise RuntimeError(f"{method} {path} -> {response.status}: {raw[:300]!r}")
        return json.loads(raw) if raw else None


_LOGIN = {"username": "sandbox", "password": "sandbox"}
CH = "/api/v1/channel/1"


@contextlib.contextmanager
def measured(process: psutil.Process, name: str, phases: list[Phase]) -> Iterator[list[int]]:
    """Counts requests made inside the block (append to the yielded list) and their CPU."""
    counter = [0]
    cpu0, wall0 = cpu_seconds(process.pid), time.perf_counter()
    yield counter
    phases.append(
        Phase(name, counter[0], cpu_seconds(process.pid) - cpu0, time.perf_counter() - wall0)
    )


def pending_ids(client: Client, view: str, after: int, limit: int = BATCH) -> list[int]:
    data = client.call("GET", f"{CH}/{view}/?limit={limit}&sort=id&pk__gt={after}")
    return [int(row["pk"]) for row in data["results"]]


def batch_cycles(
    client: Client, process: psutil.Process, phases: list[Phase], model: str, view: str
) -> None:
    """The engine's write path for one content type: read a pending page by pk cursor, open a
    batch, commit its objects, move it on, settle it with remote ids."""
    pages: list[list[int]] = []
    with measured(process, f"{view} page (pk cursor, 100)", phases) as n:
        after = 0
        while len(pages) < MAX_BATCHES:
            ids = pending_ids(client, view, after)
            n[0] += 1
            if not ids:
                break
            pages.append(ids)
            after = ids[-1]
    batches: list[int] = []
    with measured(process, f"batch_requests create ({model})", phases) as n:
        for _ in pages:
            batches.append(int(client.call("POST", f"{CH}/batch_requests/", {"channel": 1})["id"]))
            n[0] += 1
    stamps: dict[int, str] = {}
    with measured(process, f"PATCH commit 100 {model} (+sent_to_remote)", phases) as n:
        for batch, ids in zip(batches, pages, strict=True):
            objects = [_object(model, pk, None) for pk in ids]
            body = {"channel": 1, "status": "commit", "content_type": model, "objects": objects}
            client.call("PATCH", f"{CH}/batch_requests/{batch}/", body)
            body = {"channel": 1, "status": "sent_to_remote", "remote_batch_id": f"r{batch}"}
            stamps[batch] = client.call("PATCH", f"{CH}/batch_requests/{batch}/", body)[
                "modified_date"
            ]
            n[0] += 2
    with measured(process, f"PATCH done 100 {model}", phases) as n:
        for batch, ids in zip(batches, pages, strict=True):
            objects = [_object(model, pk, stamps[batch], remote=f"{model}-{pk}") for pk in ids]
            body = {"channel": 1, "status": "done", "objects": objects}
            client.call("PATCH", f"{CH}/batch_requests/{batch}/", body)
            n[0] += 1


def _object(model: str, pk: int, version: str | None, remote: str | None = None) -> dict[str, Any]:
    return {
        "pk": pk,
        "content_type": model,
        "version_date": version,
        "remote_id": remote,
        "failed_reason_type": None,
    }


def mix(client: Client, process: psutil.Process, products: int) -> list[Phase]:
    phases: list[Phase] = []
    count = min(products, 1000)
    with measured(process, "mapped_products/{pk}/", phases) as n:
        for pk in range(1, count + 1):
            client.call("GET", f"{CH}/mapped_products/{pk}/")
            n[0] += 1
    batch_cycles(client, process, phases, "product", "products/inserts")
    with measured(process, "integration_actions object_id__in (100)", phases) as n:
        for start in range(1, min(products, MAX_BATCHES * BATCH), BATCH):
            ids = ",".join(str(pk) for pk in range(start, start + BATCH))
            client.call(
                "GET",
                f"{CH}/integration_actions/?content_type_name=product&channel_id=1"
                f"&object_id__in={ids}&limit={BATCH}",
            )
            n[0] += 1
    batch_cycles(client, process, phases, "productstock", "product_stocks/inserts")
    batch_cycles(client, process, phases, "productprice", "product_prices/inserts")
    batch_cycles(client, process, phases, "productimage", "product_images/inserts")
    return phases


def run_mix(products: int, start: StartSimulator) -> int:
    """Seed, start a simulator, run the mix, print CPU per 1,000 requests per kind."""
    from channel_app_template.sandbox.omnitron.seed import seed_catalog
    from channel_app_template.sandbox.omnitron.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="bench-omnitron-mix-"))
    state = workdir / "omnitron.sqlite3"
    store = Store(str(state))
    seed_catalog(store, products)
    store.conn.close()
    process, port = start(state, workdir)
    try:
        server = psutil.Process(process.pid)
        client = Client(port)
        phases = mix(client, server, products)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    print(f"\ncatalog mix, {products:,} products: simulator CPU (user+sys) per request")
    print(f"{'kind':<46}{'requests':>9}{'CPU s':>8}{'CPU ms/1k':>11}{'wall s':>8}")
    for phase in phases:
        per_k = phase.cpu_s / max(1, phase.requests) * 1e6
        print(
            f"{phase.name:<46}{phase.requests:>9}{phase.cpu_s:>8.2f}{per_k:>11.0f}"
            f"{phase.wall_s:>8.1f}"
        )
    total_requests = sum(p.requests for p in phases)
    total_cpu = sum(p.cpu_s for p in phases)
    mean_us = total_cpu / max(1, total_requests) * 1e6
    print(f"{'whole mix':<46}{total_requests:>9}{total_cpu:>8.2f}{mean_us:>11.0f}")
    if MIX_BASELINE_US > 0:
        target = MIX_BASELINE_US / 2
        verdict = "PASS" if mean_us <= target else "MISS"
        print(
            f"mix CPU per request {mean_us:.0f} us; before {MIX_BASELINE_US:.0f} us, "
            f"target <= {target:.0f} us (2x): {verdict} ({MIX_BASELINE_US / mean_us:.2f}x)"
        )
    return 0
