"""Which failed objects to re-send because what they depend on changed since they failed.

A product refused for its price is sent again once the price changed; a stock, price or
image refused because its product was not on the channel yet, once the product was synced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.models import (
    ContentType,
    IntegrationAction,
    IntegrationActionStatus,
)
from channel_app_template.core.engine._resource import ByIds, ChangedSinceFailure


def _failed_at(actions: Sequence[IntegrationAction]) -> dict[int, dt.datetime]:
    """When each object failed: its ``error`` mapping's ``modified_date`` (Omnitron's clock,
    like the dates it is compared with)."""
    out: dict[int, dt.datetime] = {}
    for action in actions:
        when = parse_date(action.modified_date)
        if action.object_id is not None and when is not None:
            out[action.object_id] = when
    return out


def products_changed_since_failure(
    omnitron: OmnitronIntegration, actions: Sequence[IntegrationAction]
) -> list[int]:
    """Failed products whose stock, price or images changed after they failed."""
    failed_at = _failed_at(actions)
    latest = omnitron.changed_dependents(list(failed_at))
    return [pk for pk, when in failed_at.items() if pk in latest and latest[pk] > when]


def product_synced_since_failure(read: ByIds) -> ChangedSinceFailure:
    """Failed stocks, prices or images whose product was synced (successfully) after."""

    def changed(omnitron: OmnitronIntegration, actions: Sequence[IntegrationAction]) -> list[int]:
        failed_at = _failed_at(actions)
        product_of = {
            int(row.pk): int(row.product)
            for row in read(omnitron, list(failed_at))
            if row.pk is not None and row.product is not None
        }
        products = omnitron.actions_of(ContentType.PRODUCT, set(product_of.values()))
        out = []
        for pk, product in product_of.items():
            action = products.get(product)
            synced = parse_date(action.modified_date) if action is not None else None
            if (
                action is not None
                and action.status == IntegrationActionStatus.SUCCESS
                and synced is not None
                and synced > failed_at[pk]
            ):
                out.append(pk)
        return out

    return changed


def products_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.products_by_ids(pks)


def stocks_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.stocks_by_ids(pks)


def prices_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.prices_by_ids(pks)


def images_by_ids(omnitron: OmnitronIntegration, pks: Sequence[int]) -> Iterable[Any]:
    return omnitron.images_by_ids(pks)
