"""Small pieces the setup flows share: counters, error reports, mapping lookups, clock."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from channel_app_template.akinon.catalog import CatalogApi
from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.models import IntegrationAction
from channel_app_template.channel import ChannelIntegration, UnsupportedCommand
from channel_app_template.errors import ChannelAppError

logger = logging.getLogger("channel_app_template.setup")

NODE = "categorynode"
ATTRIBUTE = "marketplaceattribute"
VALUE = "marketplaceattributevalue"


class Tally(Counter[str]):
    """Counts of what a run did; ``summary`` keeps every declared key, zeros included, so
    dashboards and tests can rely on the keys being there."""

    def summary(self, keys: Iterable[str], **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {key: int(self[key]) for key in keys}
        out.update({k: int(v) for k, v in self.items() if k not in out})
        out.update(extra)
        return out


def unsupported(channel: ChannelIntegration, command: str) -> dict[str, Any] | None:
    """``{"skipped": why}`` when the channel does not implement ``command``, else None."""
    if channel.supports(command):
        return None
    reason = type(channel).unsupported.get(command) or "not implemented"
    return {"skipped": f"{type(channel).__name__} does not support {command}: {reason}"}


def skipped(error: UnsupportedCommand) -> dict[str, Any]:
    return {"skipped": error.message}


def now_stamp() -> str:
    """Omnitron's date format (microseconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def report(
    omnitron: OmnitronIntegration,
    model: str,
    pk: int | None,
    *,
    code: str,
    error: BaseException | str,
) -> None:
    """An error report on ``model``/``pk`` (on the channel when there is no object yet).

    Reporting is best effort: a refused or lost report is logged, never allowed to stop the
    run that is trying to say something went wrong.
    """
    description = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    if pk is None:
        model, pk = "channel", omnitron.catalog_api.channel_id
    try:
        omnitron.report(model, pk, code=code, description=description[:5000])
    except ChannelAppError as failure:
        logger.warning("could not post error report %s on %s %s: %s", code, model, pk, failure)


def model_of(action: IntegrationAction) -> str | None:
    """The model name of an integration action (nested ``content_type`` on reads)."""
    content_type = action.content_type
    if isinstance(content_type, dict):
        model = content_type.get("model")
        return str(model) if model is not None else None
    return content_type if isinstance(content_type, str) else None


def actions_for_remote_ids(
    api: CatalogApi, model: str, remote_ids: Iterable[str]
) -> Iterator[IntegrationAction]:
    """Mappings of ``model`` whose remote id is one of ``remote_ids``, in ``remote_id__in``
    chunks. An id containing a comma cannot travel in an ``__in`` list, so those few are
    asked one by one with ``remote_id__exact``. Results are checked here too (an Omnitron
    that ignored a filter must not hand us other objects' mappings)."""
    wanted = set(remote_ids)
    plain = sorted(r for r in wanted if "," not in r)
    odd = sorted(r for r in wanted if "," in r)
    found: Iterable[IntegrationAction] = api.integration_actions_for_remote_ids(model, plain)
    for action in found:
        if _is_mapping(action, model, wanted):
            yield action
    for remote_id in odd:
        query = api.integration_actions(
            content_type_name=model, channel_id=api.channel_id, remote_id__exact=remote_id
        )
        for action in query:
            if _is_mapping(action, model, wanted):
                yield action


def _is_mapping(action: IntegrationAction, model: str, wanted: set[str]) -> bool:
    kind = model_of(action)
    return (
        action.object_id is not None
        and action.remote_id in wanted
        and (kind is None or kind == model)
    )
