"""Subcommands of this package (being written; registers nothing yet)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    return None
