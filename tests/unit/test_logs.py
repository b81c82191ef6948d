"""The log formatters and set-up: task name and id on every line of a task, extras as fields,
JSON as one object per line, redaction of everything, third-party loggers held back."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from channel_app_template.logs import (
    THIRD_PARTY_LOGGERS,
    JsonLineFormatter,
    TextFormatter,
    configure_logging,
    task_context,
)
from channel_app_template.redaction import REDACTOR, register_secrets
from channel_app_template.settings import Settings

SECRET = "log-secret-Hq7"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Put back root's handlers and level and the named loggers this module touches."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", *THIRD_PARTY_LOGGERS)
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level) for n in names}
    propagate = {n: logging.getLogger(n).propagate for n in names}
    secrets = REDACTOR.secrets
    register_secrets([SECRET])
    yield
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate[name]
    REDACTOR.clear()
    REDACTOR.add(secrets)


def emit(formatter: logging.Formatter, **extra: Any) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("channel_app_template.flows.test")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("sent %s with %s", "page", SECRET, extra=extra)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    return stream.getvalue()


def test_text_line_has_the_task_the_extras_and_no_secret() -> None:
    outside = emit(TextFormatter(), flow="products")
    assert "channel_app_template.flows.test: sent page with [redacted] flow=products" in outside
    with task_context("channel_app_template.app.tasks.fetch_orders", "id-1"):
        inside = emit(TextFormatter(), batch_id=12, counts={"sent": 2}, api_key="raw-key")
    assert "fetch_orders[id-1]: sent page" in inside
    assert 'batch_id=12 counts={"sent":2} api_key=[redacted]' in inside
    assert SECRET not in inside + outside and "raw-key" not in inside


def test_json_line_is_one_object_with_task_fields_and_extras() -> None:
    with task_context("channel_app_template.app.tasks.fetch_orders", "id-2"):
        line = emit(JsonLineFormatter(), flow="orders", counts={"created": 1, "note": SECRET})
    assert line.count("\n") == 1
    record = json.loads(line)
    assert record["task_name"] == "channel_app_template.app.tasks.fetch_orders"
    assert record["task_id"] == "id-2"
    assert record["flow"] == "orders"
    assert record["counts"] == {"created": 1, "note": "[redacted]"}
    assert record["message"] == "sent page with [redacted]"
    assert {"time", "level", "logger", "process"} <= set(record)


def test_web_logging_takes_over_uvicorn_and_quiets_third_parties(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(logging.StreamHandler(io.StringIO()))  # as uvicorn's dictConfig does
    uvicorn.propagate = False
    root = logging.getLogger()
    root.handlers.clear()
    settings = Settings(_env_file=None, log_format="json")  # type: ignore[call-arg]
    listener = configure_logging(settings)
    assert listener is not None
    try:
        assert not uvicorn.handlers and uvicorn.propagate
        assert logging.getLogger("urllib3").level == logging.WARNING
        assert logging.getLogger("httpx").level == logging.WARNING
        with task_context("t.name", "id-3"):  # stamped where logged, not in the writer thread
            logging.getLogger("uvicorn.error").info("Uvicorn running with %s", SECRET)
    finally:
        listener.stop()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    running = next(r for r in lines if r["message"].startswith("Uvicorn running"))
    assert running["message"] == "Uvicorn running with [redacted]"
    assert (running["task_name"], running["task_id"]) == ("t.name", "id-3")
    loud = Settings(_env_file=None, log_level_third_party="info")  # type: ignore[call-arg]
    configure_logging(loud)
    assert logging.getLogger("kombu").level == logging.INFO
