"""Closing a test's Celery client app without leaving its results to warn later."""

from __future__ import annotations

import contextlib

from celery import Celery

__all__ = ["close_client"]


def close_client(app: Celery) -> None:
    """Close ``app`` so that none of its results can reach the server afterwards.

    Every ``AsyncResult`` unsubscribes from the Redis result backend when it is finalized,
    and one the backend still awaits (a task that outlived its ``get`` timeout) lives as
    long as the app. Finalized after the server stopped, inside whatever the garbage
    collector interrupts, it raised a connection error that pytest reported as an
    unraisable-exception warning against an unrelated test. With the result consumer
    stopped and its pubsub dropped (Celery's state before the first subscription), that
    unsubscribe does nothing.
    """
    consumer = getattr(app.backend, "result_consumer", None)
    if consumer is not None:
        with contextlib.suppress(Exception):  # the server may be gone already
            consumer.stop()
        if hasattr(consumer, "_pubsub"):
            consumer._pubsub = None
    app.close()
