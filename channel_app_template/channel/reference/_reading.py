"""Answers into models: a broken answer is an error, a broken listed row is data.

An answer that does not fit its model breaks the contract (``UnexpectedAnswer``). A single
order, event or claim in a list that does not fit comes back as an ``Unreadable*`` row
instead, so one broken row cannot stop the rest. Neither ever quotes the values: they may be
personal data.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from channel_app_template.channel.reference._transport import PEER
from channel_app_template.channel.reference._wire import (
    MarketOrder,
    UnreadableOrder,
    UnreadableRow,
    WireModel,
)
from channel_app_template.transport import UnexpectedAnswer

__all__ = ["parse", "parse_list", "read_order", "read_row"]

M = TypeVar("M", bound=WireModel)


def parse(model: type[M], body: Any, path: str) -> M:
    """``body`` as ``model``, or ``UnexpectedAnswer`` naming the path and what is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems = _problems(error, whole="(answer)", most=5)
        raise UnexpectedAnswer(
            f"{PEER} {path}: not a {model.__name__} ({problems})", peer=PEER, path=path
        ) from None


def parse_list(model: type[M], rows: Any, path: str) -> list[M]:
    """Every row of a list answer as ``model`` (the same rules as :func:`parse`)."""
    if not isinstance(rows, list):
        raise UnexpectedAnswer(f"{PEER} {path}: expected a list", peer=PEER, path=path)
    return [parse(model, row, path) for row in rows]


def read_order(raw: Any) -> MarketOrder | UnreadableOrder:
    """The typed order, or what could be salvaged of it (id, number, the error)."""
    try:
        return MarketOrder.model_validate(raw)
    except ValidationError as error:
        ident = raw.get("id") if isinstance(raw, dict) else None
        number = raw.get("number") if isinstance(raw, dict) else None
        return UnreadableOrder(
            id=ident if isinstance(ident, str) else "",
            number=number if isinstance(number, str) and number else None,
            error=_problems(error),
            raw=raw,
        )


def read_row(model: type[M], raw: Any) -> M | UnreadableRow:
    """The typed row, or its id (when it has a string one) and the error."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        ident = raw.get("id") if isinstance(raw, dict) else None
        return UnreadableRow(
            id=ident if isinstance(ident, str) else "", error=_problems(error), raw=raw
        )


def _problems(error: ValidationError, *, whole: str = "(item)", most: int = 10) -> str:
    """Where and what, never the values; ``whole`` names a problem with the whole body."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or whole}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)[:most]
    )
