"""Simulator-only routes under ``/_sandbox/`` (filled in below)."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    return None
