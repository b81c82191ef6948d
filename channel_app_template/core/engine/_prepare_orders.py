"""Omnitron's order-side changes into channel items: order updates (status, tracking,
invoice) and decisions on cancellation requests.

They travel through the catalog engine (batches, matching, error reports) but are matched
by order number or request id, not by a product's key.
"""

from __future__ import annotations

from collections.abc import Sequence

from channel_app_template.akinon.models import CancellationRequest, ContentType, Order
from channel_app_template.channel import (
    ChannelCancellationRequestDto,
    FailedReasonType,
    OrderUpdateItem,
    SyncItem,
)
from channel_app_template.core.engine._resource import PrepareContext, Prepared, tracked_of

# --- Omnitron's decisions on cancellation requests, back to the channel -------------------------


def prepare_cancellation_decisions(
    ctx: PrepareContext, requests: Sequence[CancellationRequest]
) -> Prepared:
    prepared = Prepared()
    mapping, _ = ctx.config.reason_ids()
    codes = {pk: code for code, pk in mapping.items()}  # Omnitron reason id -> channel code
    item_pks = [int(r.order_item) for r in requests if isinstance(r.order_item, int)]
    lines = ctx.omnitron.remote_ids(ContentType.ORDER_ITEM, item_pks)
    for request in requests:
        tracked = tracked_of(request, ContentType.CANCELLATION_REQUEST)
        line = lines.get(int(request.order_item)) if isinstance(request.order_item, int) else None
        if not request.remote_id or not line:
            prepared.fail(
                tracked, FailedReasonType.CHANNEL_APP, "the request did not come from this channel"
            )
            continue
        decision = ChannelCancellationRequestDto(
            remote_id=request.remote_id,
            order_item=line,
            status=str(request.status or ""),
            reason=codes.get(int(request.reason), str(request.reason))
            if isinstance(request.reason, int)
            else str(request.reason or ""),
            description=request.description or "",
            cancellation_type=request.cancellation_type or "cancel",
        )
        prepared.add(
            SyncItem(obj=decision, sku=request.remote_id, remote_id=request.remote_id),
            request.remote_id,
            [tracked],
        )
    return prepared


# --- Orders changed in Omnitron (status, tracking, invoice) ------------------------------------


def prepare_order_updates(ctx: PrepareContext, orders: Sequence[Order]) -> Prepared:
    """Matched by order number; carries the order's items and their line ids."""
    prepared = Prepared()
    pks = [int(o.pk) for o in orders if o.pk is not None]
    remote = ctx.omnitron.remote_ids(ContentType.ORDER, pks)
    items = ctx.omnitron.order_items_of(pks)
    item_pks = [int(i.pk) for group in items.values() for i in group if i.pk is not None]
    lines = ctx.omnitron.remote_ids(ContentType.ORDER_ITEM, item_pks)
    for order in orders:
        tracked = tracked_of(order, ContentType.ORDER)
        if tracked.pk not in remote:
            prepared.fail(
                tracked,
                FailedReasonType.CHANNEL_APP,
                "the order has no remote id: it did not come from this channel",
            )
            continue
        own = items.get(tracked.pk, [])
        item = OrderUpdateItem(
            obj=order,
            sku=order.number,
            remote_id=remote[tracked.pk],
            items=tuple(own),
            item_remote_ids={
                int(i.pk): lines[int(i.pk)] for i in own if i.pk is not None and int(i.pk) in lines
            },
        )
        prepared.add(item, order.number, [tracked])
    return prepared
