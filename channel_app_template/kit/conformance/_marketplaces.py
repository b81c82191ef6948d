"""Where a run's test marketplace comes from when the caller gives no conf.

The channel module's own ``conformance_marketplace()``
(:func:`channel_app_template.channel_modules.own_marketplace`), or, for the bundled
reference integration, the reference marketplace simulator started here, with orders and
order events made on it when the run asks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from channel_app_template.channel_modules import (
    REFERENCE_MODULES,
    MarketplaceHook,
    TestMarketplace,
    own_marketplace,
)
from channel_app_template.kit.simulators import MARKETPLACE_KEY, Launched, reference_marketplace

__all__ = ["marketplace_hook"]

SANDBOX = "/_sandbox/orders"


def marketplace_hook(module: str) -> MarketplaceHook | None:
    """The channel module's own test marketplace, ``conformance_marketplace()`` (the
    reference marketplace for the reference integration), or ``None``: a context manager
    factory yielding a :class:`TestMarketplace`."""
    hook = own_marketplace(module)
    if hook is None and module in REFERENCE_MODULES:
        return _reference_marketplace
    return hook


@contextlib.contextmanager
def _reference_marketplace() -> Iterator[TestMarketplace]:
    with reference_marketplace() as market:
        orders: list[str] = []
        yield TestMarketplace(
            {"api_url": market.url, "api_key": MARKETPLACE_KEY},
            lambda: orders.extend(_make_orders(market)),
            lambda: _make_events(market, orders),
        )


def _make_orders(market: Launched) -> list[str]:
    """Four new orders of one or two lines; their numbers."""
    made = market.ok(
        "POST",
        f"{SANDBOX}/generate/",
        {"count": 4, "items_per_order": [1, 2], "max_quantity": 2, "seed": 7},
    )
    first, last = (int(made[k][2:]) for k in ("first_order_id", "last_order_id"))
    return [f"MO{n:08d}" for n in range(first, last + 1)]


def _make_events(market: Launched, orders: list[str]) -> None:
    """A line update, a cancellation and a cancellation request, on the first three orders."""
    lines = [market.ok("GET", f"{SANDBOX}/{o}/")["raw"]["lines"][0] for o in orders]
    market.ok(
        "POST",
        f"{SANDBOX}/{orders[0]}/line-update/",
        {"line_id": lines[0]["line_id"], "status": "picking", "tracking_number": "T1"},
    )
    market.ok(
        "POST",
        f"{SANDBOX}/{orders[1]}/cancel/",
        {"lines": [{"line_id": lines[1]["line_id"], "quantity": 1}]},
    )
    market.ok(
        "POST",
        f"{SANDBOX}/{orders[2]}/claims/",
        {"line_id": lines[2]["line_id"], "type": "cancel", "reason_code": "changed_mind"},
    )
