"""The deprecated import paths kept for integrations written before issue 12.

``core.commands``, ``core.dto``, ``core.errors`` and ``core.http`` hold no code any more:
each name resolves, on first use, to its new home and warns with a ``DeprecationWarning``
saying where to import it from. Importing the old module itself emits nothing.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Moved"]


class Moved:
    """Where each name of one deprecated module lives now."""

    def __init__(self, old: str, homes: Mapping[str, Iterable[str]]) -> None:
        self.old = old
        self.home = {name: new for new, names in homes.items() for name in names}

    def __call__(self, name: str) -> Any:
        new = self.home.get(name)
        if new is None:
            raise AttributeError(f"module {self.old!r} has no attribute {name!r}")
        warnings.warn(
            f"{self.old}.{name} moved: import it from {new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)
