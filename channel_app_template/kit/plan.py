"""What a conformance run will write to the test marketplace, said before it writes.

The suite drives the real engine, so a live run creates, updates and deletes products and
sends stocks, prices, images, acknowledgements and decisions to whatever marketplace the
conf points at. :func:`write_plan` counts it from the private Omnitron simulator (what the
engine will find pending) and the commands the channel supports; the run goes on only with
consent (:func:`confirmed`, or a marketplace the channel module provides for the purpose).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated
from channel_app_template.akinon.port import OmnitronIntegration

__all__ = ["CHANGED_PER_RESOURCE", "YES_VARIABLE", "WritePlan", "confirmed", "write_plan"]

YES_VARIABLE = "CHANNEL_APP_CONFORMANCE_YES"
"""Set to 1 to let a run write to the marketplace of a conf it was given (``--yes``)."""

CHANGED_PER_RESOURCE = 1
"""Products (and their stocks, prices, images) the run changes in Omnitron after the first
sync, to drive the ``send_updated_*`` commands; the last product is deleted."""


def confirmed(confirm: bool = False) -> bool:
    """Consent to write to a given marketplace: ``confirm`` (``--yes``) or the variable."""
    value = os.environ.get(YES_VARIABLE, "").strip().lower()
    return confirm or value in {"1", "true", "yes", "y"}


@dataclass(frozen=True)
class WritePlan:
    """One line per kind of write, in the order the run makes them."""

    lines: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.lines)

    def format(self, where: str = "the test marketplace") -> str:
        if not self.lines:
            return f"conformance writes nothing to {where}"
        return f"conformance will write to {where}:\n" + "\n".join(f"  - {x}" for x in self.lines)


def write_plan(omnitron: OmnitronIntegration, supported: Collection[str]) -> WritePlan:
    """The writes a run will make, with counts, for a channel supporting ``supported``."""
    lines: list[str] = []
    size = DEFAULT_PAGE_SIZE
    pending: dict[str, Paginated[Any]] = {
        "products": omnitron.pending_products("inserts", size),
        "stocks": omnitron.pending_stocks("inserts", size, None),
        "prices": omnitron.pending_prices("inserts", size, None),
        "images": omnitron.pending_images("inserts", size),
    }
    for resource, rows in pending.items():
        inserted, updated = (f"send_{kind}_{resource}" for kind in ("inserted", "updated"))
        if inserted in supported:
            lines.append(f"{resource}: {rows.count()} sent as new ({inserted})")
        if updated in supported:
            lines.append(
                f"{resource}: those of {CHANGED_PER_RESOURCE} product sent again ({updated})"
            )
    if "send_deleted_products" in supported:
        lines.append("products: 1 deleted (send_deleted_products)")
    for command, what in (
        ("acknowledge_orders", "every order get_orders returns, acknowledged (repeatedly)"),
        ("send_updated_orders", f"{CHANGED_PER_RESOURCE} order's item status update"),
        ("acknowledge_order_item_updates", "every line update read, acknowledged"),
        ("acknowledge_cancelled_orders", "every cancellation read, acknowledged"),
        ("acknowledge_cancellation_requests", "every cancellation request read, acknowledged"),
        ("update_cancellation_request", "an approval of every cancellation request read"),
    ):
        if command in supported:
            lines.append(f"orders: {what} ({command})")
    return WritePlan(tuple(lines))
