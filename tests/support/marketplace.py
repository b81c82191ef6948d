"""Start the reference marketplace as a real process for tests (``channel-app sandbox
marketplace``).

    with marketplace_server(batch_delay=0.2) as market:
        batch = market.client().upsert_products([...])
        market.inspect("counts/")

``market.url`` is the base (``http://127.0.0.1:PORT``), ``market.api`` adds ``/api/v1``,
``market.state`` is the SQLite file (``market.restart()`` keeps it, to test persistence),
``market.api_key`` the accepted ``X-Api-Key``. ``client()`` is a ready
:class:`MarketplaceClient`; ``call()`` is a raw stdlib JSON request for contract tests.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channel_app_template.channel.reference.marketplace_client import (
    MarketplaceClient,
    RetryPolicy,
    Timeouts,
)
from tests.support.processes import free_port, start
from tests.support.simulator import SimulatorProcess, json_request, simulator_command

API_KEY = "sandbox-key"


@dataclass
class MarketplaceSim(SimulatorProcess):
    """A running marketplace; stdlib-only helpers plus a typed client factory."""

    api_key: str = API_KEY

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        api_key: str | None = "",
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any, dict[str, str]]:
        """A JSON request to ``path`` (absolute, like ``/api/v1/categories``).

        Sends ``self.api_key`` unless ``api_key`` is given (``None`` sends no key).
        Returns (status, decoded body, response headers with lower-case names).
        """
        key = self.api_key if api_key == "" else api_key
        sent = {**({"X-Api-Key": key} if key is not None else {}), **(headers or {})}
        return json_request(f"{self.url}{path}", method, body, sent, timeout)

    def client(self, *, max_attempts: int = 4, **kwargs: Any) -> MarketplaceClient:
        """A typed client with short timeouts and quick backoff (tests stay fast)."""
        kwargs.setdefault("timeouts", Timeouts(connect=2.0, read=10.0))
        kwargs.setdefault(
            "retry",
            RetryPolicy(max_attempts=max_attempts, backoff_base=0.05, backoff_cap=0.2),
        )
        return MarketplaceClient(self.url, self.api_key, **kwargs)

    def inspect(self, path: str) -> Any:
        """GET a ``/_sandbox/`` route (``market.inspect("products/SKU-1/")``)."""
        status, body, _ = self.call("GET", f"/_sandbox/{path.lstrip('/')}", api_key=None)
        if status != 200:
            raise RuntimeError(f"/_sandbox/{path}: {status} {body}")
        return body

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """POST/DELETE a ``/_sandbox/`` control route (``faults/``, ``settings/``...)."""
        status, data, _ = self.call(method, f"/_sandbox/{path.lstrip('/')}", body, api_key=None)
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} /_sandbox/{path}: {status} {data}")
        return data

    def settings(self, **values: Any) -> Any:
        """Change ``batch_delay_seconds``, ``rate_limit``, ``rate_burst`` at run time."""
        return self.control("POST", "settings/", values)

    def fault(self, **rule: Any) -> Any:
        """Add one fault rule (``market.fault(pattern="/products", action="drop", times=1)``)."""
        return self.control("POST", "faults/rules/", rule)

    def complete_batches(self) -> int:
        return int(self.control("POST", "batches/complete/")["completed"])

    def reset(self) -> None:
        self.control("POST", "reset/", {})

    # ------------------------------------------------------------------ orders
    def seed_products(self, count: int, *, start: int = 1) -> list[str]:
        """Create ``count`` live products (``product_payload(start..)``) and wait for them;
        returns their marketplace product ids (``MPnnnnnnnn``)."""
        ids: list[str] = []
        for first in range(start, start + count, 1000):
            items = [product_payload(i) for i in range(first, min(start + count, first + 1000))]
            status, body, _ = self.call("POST", "/api/v1/products", {"items": items})
            if status != 202:
                raise RuntimeError(f"product upsert: {status} {body}")
            self.complete_batches()
            _, batch, _ = self.call("GET", f"/api/v1/batches/{body['batch_id']}")
            ids += [r["product_id"] for r in batch["items"] if r["status"] == "accepted"]
        return ids

    def generate_orders(
        self,
        count: int,
        *,
        items_per_order: int | Sequence[int] = (1, 3),
        seed: int = 0,
        bad: dict[str, float] | None = None,
        **extra: Any,
    ) -> Any:
        """``POST /_sandbox/orders/generate/``: ``{created, first_order_id, last_order_id,
        bad: {kind: [numbers]}}``. ``bad`` fractions: ``unknown_product``, ``unknown_cargo``,
        ``unresolvable_address``, ``malformed``; ``extra``: ``max_quantity``,
        ``number_prefix``, ``skus``."""
        per = items_per_order if isinstance(items_per_order, int) else list(items_per_order)
        body = {"count": count, "items_per_order": per, "seed": seed, "bad": bad or {}, **extra}
        return self.control("POST", "orders/generate/", body)

    def order_counts(self) -> Any:
        """Orders, acknowledged/unacknowledged, by status and kind, units, events, claims."""
        return self.inspect("orders/counts/")

    def order(self, order_id: str) -> Any:
        """``{"raw": stored order, "served": what the API lists}`` for one order."""
        return self.inspect(f"orders/{order_id}/")

    def cancel_lines(
        self, order_id: str, lines: list[dict[str, Any]] | None = None, **extra: Any
    ) -> Any:
        """The marketplace cancels units: ``lines=[{line_id, quantity?, reason_code?}]`` (None:
        all remaining units); returns the ``cancellation`` event."""
        body: dict[str, Any] = dict(extra)
        if lines is not None:
            body["lines"] = lines
        return self.control("POST", f"orders/{order_id}/cancel/", body)

    def update_line(self, order_id: str, **fields: Any) -> Any:
        """The marketplace changes lines (``line_id``, ``status``, ``tracking_number``,
        ``invoice_number``, ``invoice_date``, ``cargo_code``); returns the events."""
        return self.control("POST", f"orders/{order_id}/line-update/", fields)

    def plant_order(self, kind: str | None = None, **body: Any) -> Any:
        """``POST /_sandbox/orders/plant/``: one order stored with bad values (``kind``:
        bad_price, huge_quantity, negative_price, negative_tax, discount_above_price,
        bad_currency, duplicate_sku, long_title; or raw ``order``/``lines`` values).
        Returns ``{order_id, number, kind, served}``."""
        if kind is not None:
            body["kind"] = kind
        return self.control("POST", "orders/plant/", body)

    def create_claim(self, order_id: str, line_id: str, **fields: Any) -> Any:
        """A buyer's claim (``type`` cancel|return, ``quantity``, ``reason_code``...)."""
        return self.control("POST", f"orders/{order_id}/claims/", {"line_id": line_id, **fields})


@contextlib.contextmanager
def marketplace_server(
    *args: str,
    state: Path | None = None,
    seed: int | None = None,
    batch_delay: float | None = 0.2,
    rate_limit: float | None = 0,
) -> Iterator[MarketplaceSim]:
    """Run ``channel-app sandbox marketplace`` on a free loopback port; stop it afterwards.

    Test defaults: batches complete after 0.2 s and rate limiting is off (``rate_limit=0``);
    pass ``None`` to keep the server's own defaults. ``args`` are extra CLI flags.
    """
    log_dir = Path(tempfile.mkdtemp(prefix="cat-marketplace-"))
    state = state or log_dir / "marketplace.sqlite3"
    flags = list(args)
    if batch_delay is not None:
        flags += ["--batch-delay", str(batch_delay)]
    if rate_limit is not None:
        flags += ["--rate-limit", str(rate_limit)]
    if seed is not None:
        flags += ["--seed", str(seed)]
    port = free_port()
    command = simulator_command("marketplace", port, state, flags)
    service = start("marketplace", command, port=port, log_dir=log_dir, timeout=60.0)
    market = MarketplaceSim(
        "marketplace", f"http://127.0.0.1:{port}", state, port, flags, service, log_dir
    )
    try:
        yield market
    finally:
        market.stop()


def product_payload(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid upsert item for leaf category 1001 (Women > Shirts); override any field."""
    item: dict[str, Any] = {
        "sku": f"SKU-{i:07d}",
        "title": f"Sandbox product {i}",
        "brand": "Acme",
        "category_id": 1001,
        "barcode": f"869{i:010d}",
        "attributes": {"color": "red", "size": "M"},
        "description": f"Product number {i}.",
        "images": [f"https://cdn.example.com/products/{i}/0.jpg"],
        "price": {"list_price": "120.00", "sale_price": "99.90", "currency": "TRY"},
        "stock": 5,
    }
    item.update(overrides)
    return item
