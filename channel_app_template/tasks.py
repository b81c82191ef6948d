"""Celery tasks: one thin task per flow, each only calling its flow."""

from __future__ import annotations

import socket
import time
from typing import Any

from channel_app_template.celery_app import app


@app.task(name="channel_app_template.tasks.ping")
def ping() -> dict[str, Any]:
    """A no-op round trip: proves broker, worker and result backend work together."""
    return {"pong": True, "worker": socket.gethostname(), "at": time.time()}
