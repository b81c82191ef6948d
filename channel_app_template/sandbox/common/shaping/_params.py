"""The shaping kinds and their parameters: how a rule's JSON-ish input is read and refused.

Kept apart from what the kinds do, so the fault rules can validate a shaping rule (when it is
set, at start-up or at run time) without touching any answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

KINDS = frozenset(
    {
        "ignore_page",
        "repeat_next",
        "empty_page",
        "wrong_shape",
        "drop_field",
        "set_field",
        "huge_body",
        "extra_rows",
    }
)
STREAMS = frozenset({"huge_body", "extra_rows"})
SHAPES = ("list", "object", "string", "null", "number", "rows_as_lists")
MAX_BODY_BYTES = 2**30
MAX_ROWS = 10_000_000
MAX_VALUE_BYTES = 100_000
REQUIRED = "__required__"

Parser = Callable[[str, Any], Any]


def int_in(name: str, lo: int, hi: int) -> Parser:
    def parse(_: str, value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer within [{lo}, {hi}]")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer within [{lo}, {hi}]") from None
        if not lo <= number <= hi:
            raise ValueError(f"{name} must be within [{lo}, {hi}]")
        return number

    return parse


def _optional_index(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(int_in(name, 0, 1_000_000)(name, value))


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{name} must be true or false")


def _field_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise ValueError(f"{name} is a field name of 1-200 characters")
    return value


def _shape(name: str, value: Any) -> str:
    if value not in SHAPES:
        raise ValueError(f"{name} must be one of {list(SHAPES)}")
    return str(value)


def _json_value(name: str, value: Any) -> Any:
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a JSON value") from None
    if size > MAX_VALUE_BYTES:
        raise ValueError(f"{name} is limited to {MAX_VALUE_BYTES} bytes of JSON")
    return value


def _names(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list) or not value or len(value) > 20:
        raise ValueError(f"{name} is a list of 1-20 query parameter names")
    return [_field_name(name, item) for item in value]


def _match(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 20:
        raise ValueError(f"{name} is an object of up to 20 field: value pairs")
    return {str(k): _json_value(name, v) for k, v in value.items()}


ROW_PARAMS: dict[str, tuple[Parser, Any]] = {
    "row": (_optional_index, None),
    "match": (_match, None),
}
PARAMS: dict[str, dict[str, tuple[Parser, Any]]] = {
    "ignore_page": {"params": (_names, ["page", "offset", "cursor"])},
    "repeat_next": {"value": (_json_value, None)},
    "empty_page": {},
    "wrong_shape": {"shape": (_shape, "list")},
    "drop_field": {"field": (_field_name, "pk"), **ROW_PARAMS},
    "set_field": {"field": (_field_name, REQUIRED), "value": (_json_value, REQUIRED), **ROW_PARAMS},
    "huge_body": {
        "size_bytes": (int_in("size_bytes", 1, MAX_BODY_BYTES), 10 * 2**20),
        "chunked": (_boolean, False),
    },
    "extra_rows": {"rows": (int_in("rows", 1, MAX_ROWS), 10_000)},
}


def check(action: str, params: dict[str, Any]) -> None:
    """Refuse a rule whose required parameters are missing."""
    missing = [name for name, value in params.items() if value is REQUIRED]
    if missing:
        raise ValueError(f"action {action!r} needs {missing}")
