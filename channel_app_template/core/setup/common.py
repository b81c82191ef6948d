"""Small pieces the setup flows share: counters, error reports, support checks, clock."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from channel_app_template.akinon.models import ContentType
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import ChannelIntegration, UnsupportedCommand
from channel_app_template.errors import ChannelAppError

__all__ = [
    "NODE",
    "Tally",
    "ask",
    "logger",
    "now_stamp",
    "report",
    "skipped",
    "stamps",
    "unsupported",
]

logger = logging.getLogger("channel_app_template.setup")

NODE = ContentType.CATEGORY_NODE


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


def ask(channel: ChannelIntegration, command: str) -> tuple[Any, dict[str, Any] | None]:
    """``(the channel's answer to command(), None)``, or ``(None, {"skipped": why})`` when
    the channel does not support it (not implemented, or it says so when called)."""
    if (why := unsupported(channel, command)) is not None:
        return None, why
    try:
        return getattr(channel, command)(), None
    except UnsupportedCommand as error:
        return None, skipped(error)


def now_stamp() -> str:
    """Now in Omnitron's date format (microseconds, ``Z``)."""
    return stamps(1)[0]


def stamps(count: int) -> list[str]:
    """``count`` dates in Omnitron's format from now, one microsecond apart: writes done
    side by side still leave their objects in the order they were taken."""
    now = dt.datetime.now(dt.UTC)
    step = dt.timedelta(microseconds=1)
    return [(now + n * step).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for n in range(count)]


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
        model, pk = ContentType.CHANNEL, omnitron.channel_id
    try:
        omnitron.report(model, pk, code=code, description=description[:5000])
    except ChannelAppError as failure:
        logger.warning("could not post error report %s on %s %s: %s", code, model, pk, failure)
