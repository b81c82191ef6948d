"""Order-side routes (filled in below)."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    return None
