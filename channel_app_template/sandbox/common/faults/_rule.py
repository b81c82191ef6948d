"""One fault rule: which requests it matches, what it does to them, and the checks that keep
a rule sane whichever way it was set (CLI flag, start-up option, ``/_sandbox/faults/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import shaping

TERMINAL = frozenset({"error", "drop", "lost_response", "slow"})
STACKING = frozenset({"delay", "trickle"})
SHAPING = shaping.KINDS
ACTIONS = TERMINAL | STACKING | SHAPING
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_BODIES = {
    429: {"detail": "Request was throttled."},
    500: {"detail": "A server error occurred."},
    502: {"detail": "Bad gateway."},
    503: {"detail": "Service temporarily unavailable."},
}
MAX_PATTERN = 1000
MAX_DELAY_MS = 3_600_000  # an hour: longer than any client deadline worth testing
MAX_RETRY_AFTER = 10_000_000


@dataclass
class FaultRule:
    """One rule: requests whose path matches ``pattern`` (regex search) meet ``action``."""

    id: int
    pattern: str
    action: str
    rate: float = 1.0
    status: int = 503
    retry_after: int | None = None
    delay_ms: int = 0
    methods: frozenset[str] | None = None
    times: int | None = None  # fire at most this many times, then stay inert
    fired: int = 0
    params: dict[str, Any] = field(default_factory=dict)  # the kind's own parameters
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {sorted(ACTIONS)}")
        if self.action == "error" and self.status not in ERROR_BODIES:
            raise ValueError("error status must be one of 429, 500, 502, 503")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms must be within [0, {MAX_DELAY_MS}]")
        if self.retry_after is not None and not 0 <= self.retry_after <= MAX_RETRY_AFTER:
            raise ValueError(f"retry_after must be within [0, {MAX_RETRY_AFTER}]")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if len(self.pattern) > MAX_PATTERN:
            raise ValueError(f"pattern is limited to {MAX_PATTERN} characters")
        if self.action == "lost_response" and self.methods is None:
            self.methods = WRITE_METHODS
        try:
            self.regex = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.regex.search(path) is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pattern": self.pattern,
            "action": self.action,
            "rate": self.rate,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "times": self.times,
            "fired": self.fired,
            "methods": sorted(self.methods) if self.methods else None,
            **self.params,
        }
