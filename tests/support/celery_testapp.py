"""The project's Celery app plus a few tasks that only tests need (slow, failing)."""

from __future__ import annotations

import time

from channel_app_template.celery_app import app

__all__ = ["app"]


@app.task(name="tests.add")
def add(x: int, y: int) -> int:
    return x + y


@app.task(name="tests.sleep")
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@app.task(name="tests.fail")
def fail() -> None:
    raise ValueError("boom")


@app.task(name="tests.leak")
def leak() -> None:
    """A careless task that puts secrets in its error message."""
    import os

    raise ValueError(
        f"login failed with {os.environ['OMNITRON_PASSWORD']} on {os.environ['BROKER_URL']}"
    )
