"""The shape of an order-side resource: Omnitron's changes to orders that came from the
channel (order updates, decisions on cancellation requests), sent back to it.

They are not catalog objects: nothing is inserted, one channel command sends every change,
and a check command exists only when the channel answers later. An
:class:`OrderSideResource` declares just that. The engine's batches, matching and error
reports are the same as the catalog's, so :meth:`OrderSideResource.for_engine` is the one
place that turns a declaration into the :class:`~._resource.CatalogResource` the engine runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.models import ContentType
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.channel import SyncItem
from channel_app_template.core.engine._resource import (
    Caller,
    CatalogResource,
    Preparer,
    failed_row,
)
from channel_app_template.errors import ItemError

__all__ = ["OrderSideResource", "PendingReader", "one_at_a_time"]

PendingReader = Callable[[OmnitronIntegration, int], Paginated[Any]]
"""``(omnitron, page size)``: the objects waiting to be sent (no kinds, no extra lists)."""


@dataclass(frozen=True)
class OrderSideResource:
    """One kind of order-side change and the channel command that sends it."""

    name: str
    model: ContentType  # the batch request's content type, and the objects'
    send: str
    read_pending: PendingReader
    prepare: Preparer
    check: str | None = None
    """The command that fetches the results of a job the channel finishes later; ``None``
    when the send command's answer holds the results."""
    one_at_a_time: bool = False
    """The send command takes one item per call: it is called per item, and a refusal
    fails only that item."""

    def for_engine(self) -> CatalogResource:
        """What the engine runs: every send is made with :attr:`send`, whatever the kind
        of run; without a check command the send command stands in for it, and a check
        run then finds no job left with the channel (the send settled its batches)."""
        read = self.read_pending
        return CatalogResource(
            name=self.name,
            model=self.model,
            send_inserted=self.send,
            send_updated=self.send,
            check=self.check or self.send,
            read_pending=lambda omnitron, _kind, limit, _list: read(omnitron, limit),
            prepare=self.prepare,
            call=one_at_a_time(self.send) if self.one_at_a_time else None,
        )


def one_at_a_time(command: str) -> Caller:
    """A caller for a channel command that takes one item: called per item, a refusal
    failing only that item."""

    def call(channel: Any, items: Sequence[SyncItem[Any]]) -> list[Any]:
        rows: list[Any] = []
        for item in items:
            try:
                row = getattr(channel, command)(item.obj)
                rows.append(row.model_copy(update={"sku": item.sku, "remote_id": item.sku}))
            except ItemError as error:
                rows.append(failed_row(item.sku, error.message))
        return rows

    return call
