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


@app.task(name="tests.log_lines", bind=True)
def log_lines(self: object) -> str:
    """Logs as the app's engine, as Celery's task logger and as chatty libraries do."""
    import logging
    import os

    from celery.utils.log import get_task_logger

    logging.getLogger("channel_app_template.flows").info(
        "engine line",
        extra={"flow": "products", "batch_id": 7, "counts": {"sent": 3, "failed": 1}},
    )
    get_task_logger(__name__).info("task logger line")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTP connection (1)")
    logging.getLogger("httpx").info("HTTP Request: GET http://x/ 200 OK")
    logging.getLogger("channel_app_template.flows").warning(
        "careless line", extra={"note": os.environ["OMNITRON_PASSWORD"]}
    )
    return "logged"


@app.task(name="tests.progress_leak", bind=True)
def progress_leak(self: object) -> dict[str, str]:
    """Reports progress and returns a summary that both carry a secret."""
    import os

    secret = os.environ["OMNITRON_PASSWORD"]
    self.update_state(state="PROGRESS", meta={"step": f"using {secret}", "done": 1, "total": 2})  # type: ignore[attr-defined]
    self.send_event("task-progress", result={"step": f"using {secret}", "done": 1, "total": 2})  # type: ignore[attr-defined]
    return {"summary": f"finished with {secret}"}
