"""What a final error answer becomes: one table per peer, the default one here. The retry
rules (:mod:`~channel_app_template.transport._retry`) decide first which answers are final;
a client only says, row by row, which exception each final status raises and with what
message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from channel_app_template.errors import (
    AuthenticationError,
    ChannelAppError,
    ConfigurationError,
    ItemError,
    NotFoundError,
    RetryLater,
    RunError,
)
from channel_app_template.transport._decode import Answer

__all__ = [
    "DEFAULT_ERRORS",
    "Rule",
    "StatusErrors",
    "default_classify",
    "describe",
]

# (exception class, message template); see StatusErrors for the template's fields.
Rule = tuple[type[ChannelAppError], str]

MAX_DETAIL = 300  # characters of an error body quoted in a message


def describe(payload: Any) -> str:
    """The start of an error body, for a message: text as it came, anything else as JSON."""
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return text[:MAX_DETAIL]


class StatusErrors:
    """Maps a final non-2xx answer to the exception to raise (a client's ``classify``).

    ``rules`` is keyed by status, then by class: ``"3xx"``, ``"4xx"`` (every status below
    500 that is not a redirect) and ``"5xx"``, which every table has. A message is a
    :meth:`str.format` template over ``peer``, ``method``, ``path``, ``status``, ``detail``
    (the start of the error body), ``code`` (its ``code`` field, ``-`` when absent) and the
    ``fields`` given (e.g. the user name). The exception carries status, payload, method
    and path. :meth:`but` derives a peer's table from another.
    """

    def __init__(self, rules: Mapping[int | str, Rule], **fields: str) -> None:
        missing = {"3xx", "4xx", "5xx"} - set(rules)
        if missing:
            raise ValueError(f"StatusErrors needs a rule for {', '.join(sorted(missing))}")
        self.rules = dict(rules)
        self.fields = fields

    def but(self, rules: Mapping[int | str, Rule] | None = None, **fields: str) -> StatusErrors:
        """This table with ``rules`` replacing rows and ``fields`` added."""
        return StatusErrors({**self.rules, **(rules or {})}, **{**self.fields, **fields})

    def rule(self, status: int) -> Rule:
        found = self.rules.get(status)
        if found is not None:
            return found
        if status >= 500:
            return self.rules["5xx"]
        return self.rules["3xx" if 300 <= status < 400 else "4xx"]

    def __call__(
        self, answer: Answer, *, peer: str, method: str, path: str, repeatable: bool, payload: Any
    ) -> Exception:
        status = answer.status_code
        error_class, template = self.rule(status)
        code = payload.get("code") if isinstance(payload, dict) else None
        message = template.format(
            peer=peer,
            method=method,
            path=path,
            status=status,
            detail=describe(payload),
            code="-" if code is None else code,
            **self.fields,
        )
        return error_class(message, status_code=status, payload=payload, method=method, path=path)


DEFAULT_ERRORS = StatusErrors(
    {
        "3xx": (
            ConfigurationError,
            "{peer} redirected {method} {path} ({status}); configure its final address",
        ),
        "4xx": (RunError, "{peer} {method} {path} answered {status}: {detail}"),
        "5xx": (RetryLater, "{peer} {method} {path} answered {status}"),
        **dict.fromkeys(
            (400, 409, 422), (ItemError, "{peer} {method} {path} refused ({status}): {detail}")
        ),
        **dict.fromkeys(
            (401, 403), (AuthenticationError, "{peer} refused our credentials ({status})")
        ),
        **dict.fromkeys((404, 410), (NotFoundError, "{peer} {method} {path}: not found")),
    }
)
# The function-shaped name the transport exported before the table existed.
default_classify = DEFAULT_ERRORS
