"""Reading stored values that may be bad: a simulator lists a bad row with its raw value rather
than failing the whole listing (one bad row is one bad item, for the peer as for the client).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["decimal_or_none", "loads_or_raw", "plain"]


def plain(value: Any) -> Any:
    """A stored scalar as a JSON-safe value: blobs and non-finite floats become text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def loads_or_raw(value: Any) -> Any:
    """Stored JSON text decoded, or the stored value itself when it is not JSON."""
    if not isinstance(value, str | bytes):
        return plain(value)
    try:
        return json.loads(value, parse_constant=_not_json)
    except ValueError:
        return plain(value)


def decimal_or_none(value: Any) -> Decimal | None:
    """A finite decimal from a stored price or quantity, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
