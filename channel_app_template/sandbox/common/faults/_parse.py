"""Reading fault rules from what people type: JSON-ish objects (``/_sandbox/faults/``, start-up
options) and ``--fault`` flags; a ``ValueError`` says what is wrong, before anything changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from .. import shaping
from ._rule import FaultRule

COMMON_KEYS = frozenset(
    {"id", "pattern", "action", "rate", "methods", "times", "fired", "status", "retry_after"}
)
COMMON_KEYS_DELAY = frozenset({"delay_ms"})
# Parameters of the kinds beyond the original five: name -> (parser, default).
TRICKLE_PARAMS: dict[str, tuple[Callable[[str, Any], Any], Any]] = {
    "bytes_per_second": (shaping.int_in("bytes_per_second", 1, 10**9), 100),
}


def _param_specs(action: str) -> dict[str, tuple[Callable[[str, Any], Any], Any]]:
    if action == "trickle":
        return TRICKLE_PARAMS
    return shaping.PARAMS.get(action, {})


def parse_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer") from None
    if isinstance(number, float) and (not math.isfinite(number) or number != int(number)):
        raise ValueError(f"{name} must be an integer")
    return int(number)


def parse_rate(value: Any) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValueError("rate must be a number within [0, 1]") from None
    if not math.isfinite(rate):
        raise ValueError("rate must be a number within [0, 1]")
    return rate


def build_rule(spec: Any) -> FaultRule:
    """A rule from JSON-ish input (also ``--fault`` CLI flags); ``ValueError`` says what is
    wrong with it. The rule is not added."""
    if not isinstance(spec, dict):
        raise ValueError("a fault rule is an object")
    action = str(spec.get("action", "error"))
    own = _param_specs(action)
    allowed = COMMON_KEYS | COMMON_KEYS_DELAY | own.keys()
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for action {action!r}; "
            f"allowed: {sorted(allowed - {'id', 'fired'})}"
        )
    methods = spec.get("methods")
    if isinstance(methods, str):
        methods = methods.split("|")
    if methods is not None and (not isinstance(methods, list) or len(methods) > 10):
        raise ValueError("methods is a list of at most 10 HTTP methods")
    params = {
        name: parse(name, spec[name]) if name in spec else default
        for name, (parse, default) in own.items()
    }
    shaping.check(action, params)
    return FaultRule(
        id=0,
        pattern=str(spec.get("pattern", "")),
        action=action,
        rate=parse_rate(spec.get("rate", 1.0)),
        status=parse_int("status", spec.get("status", 503)),
        retry_after=None
        if spec.get("retry_after") is None
        else parse_int("retry_after", spec["retry_after"]),
        delay_ms=parse_int("delay_ms", spec.get("delay_ms", 0)),
        methods=frozenset(str(m).upper() for m in methods) if methods else None,
        times=None if spec.get("times") is None else parse_int("times", spec["times"]),
        params=params,
    )


def parse_rule_flag(text: str) -> dict[str, Any]:
    """``--fault 'action=error,status=503,rate=0.2,pattern=/products/'`` or a JSON object.

    In the ``key=value`` form every value is text (``methods`` and ``params`` take ``|``
    lists); use the JSON form for typed values such as ``set_field``'s ``value``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"fault rule is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError("a fault rule is an object")
        return loaded
    spec: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault rule part {part!r} is not key=value")
        if key.strip() in ("methods", "params"):
            spec[key.strip()] = value.split("|")
        else:
            spec[key.strip()] = value.strip()
    return spec
