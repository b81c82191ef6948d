"""What an inbound run returns: counts per outcome and the first few error texts.

The task's result (shown by Flower) is :meth:`RunSummary.as_dict`; log lines carry only
:meth:`RunSummary.counts`, since error texts may quote the buyer.
"""

from __future__ import annotations

from dataclasses import Field, asdict
from typing import Any, ClassVar

__all__ = ["MAX_ERRORS", "RunSummary"]

MAX_ERRORS = 20  # error texts kept per run
MAX_ERROR_CHARS = 300


class RunSummary:
    """Methods of the summary dataclasses (each declares its own counters and ``errors``)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # the subclasses are dataclasses
    errors: list[str]

    def note(self, message: str) -> None:
        """Keep an error text, while fewer than :data:`MAX_ERRORS` are kept (cut short)."""
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message[:MAX_ERROR_CHARS])

    def merge(self, other: RunSummary) -> None:
        """Add the counters and error texts of ``other`` (a page's share of the run)."""
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, int) and isinstance(theirs, int):
                setattr(self, name, mine + theirs)
        for message in other.errors:
            self.note(message)

    def as_dict(self) -> dict[str, Any]:
        """The counters that are not zero, and the errors if any."""
        return {k: v for k, v in asdict(self).items() if v}

    def counts(self) -> dict[str, int]:
        """The numbers alone, for log lines (the error texts stay out of logs)."""
        return {k: v for k, v in self.as_dict().items() if isinstance(v, int)}
