"""How much one peer may make us hold and wait: the per-attempt deadline, bytes per answer,
pages per list, connections. Each bound is checked when the object is built.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from channel_app_template.transport._paging import DEFAULT_MAX_PAGES, MAX_PAGES_BOUND

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_DEADLINE",
    "MAX_RESPONSE_BYTES_BOUND",
    "MIN_RESPONSE_BYTES",
    "Limits",
    "Timeouts",
    "check_range",
]

DEFAULT_DEADLINE = 120.0  # seconds for one attempt: connect, send, headers and body
MAX_DEADLINE = 3600.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20  # a page of 1,000 rich Omnitron products is < 10 MiB
MIN_RESPONSE_BYTES = 1024
MAX_RESPONSE_BYTES_BOUND = 2**30


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds to open a connection, to wait for each read, and for one whole attempt.

    ``total`` is the per-attempt deadline (``HTTP_REQUEST_DEADLINE``); it is checked at every
    read and write, so it bounds a trickling peer too. Bounds: each in (0, 3600].
    """

    connect: float = 5.0
    read: float = 30.0
    total: float = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            check_range(f"Timeouts.{name}", getattr(self, name), 1e-3, MAX_DEADLINE)


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one peer may make us hold: bytes per answer, pages per list, connections.

    Defaults match the settings ``HTTP_MAX_RESPONSE_BYTES`` and ``HTTP_MAX_PAGES``; bounds:
    ``max_response_bytes`` in [1 KiB, 1 GiB], ``max_pages`` in [1, 1,000,000],
    ``pool_size`` in [1, 100].
    """

    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    pool_size: int = 10

    def __post_init__(self) -> None:
        check_range(
            "Limits.max_response_bytes",
            self.max_response_bytes,
            MIN_RESPONSE_BYTES,
            MAX_RESPONSE_BYTES_BOUND,
        )
        check_range("Limits.max_pages", self.max_pages, 1, MAX_PAGES_BOUND)
        check_range("Limits.pool_size", self.pool_size, 1, 100)

    @classmethod
    def from_settings(cls, settings: Any, *, pool_size: int = 10) -> Limits:
        """The limits the deployment configured (``settings``: a loaded ``Settings``)."""
        return cls(
            max_response_bytes=settings.http_max_response_bytes,
            max_pages=settings.http_max_pages,
            pool_size=pool_size,
        )
