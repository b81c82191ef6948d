"""Log lines a person and a pipeline can read, with every known secret redacted.

Every process (worker, beat, web, Flower) writes through one of two formatters chosen by
``LOG_FORMAT``: ``text`` (one line per record) or ``json`` (one JSON object per line, made
by python-json-logger: it plugs into the standard ``logging`` that Celery, uvicorn and
Flower already use, where structlog would need its own pipeline next to theirs). Both add
the running task's name and id, and any ``extra={...}`` fields (flow, batch, counts), and
both redact after formatting, so a secret in a message, an extra or a traceback never
reaches the output. Third-party loggers that log every HTTP call or broker event are held
at ``LOG_LEVEL_THIRD_PARTY`` (WARNING by default).
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import datetime
import json
import logging
import os
import queue
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from channel_app_template.observability import register_settings_secrets
from channel_app_template.redaction import REDACTOR
from channel_app_template.settings import Settings

__all__ = [
    "THIRD_PARTY_LOGGERS",
    "JsonLineFormatter",
    "TextFormatter",
    "adopt_handlers",
    "capture_warnings",
    "configure_logging",
    "current_task",
    "formatter_for",
    "json_notice",
    "quiet_third_party",
    "task_context",
]

# Libraries that log per request, per connection or per broker event at INFO.
THIRD_PARTY_LOGGERS = (
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "aiohttp",
    "kombu",
    "amqp",
    "redis",
    "asyncio",
    "hpack",
    "multipart",
    "python_multipart",
    "watchfiles",
    "tornado.access",
    "sentry_sdk",
)
# Record attributes that are not a caller's ``extra``: logging's own, and those Celery and
# uvicorn add for their own formatters (Celery's ``data`` holds task args and results).
NOT_EXTRA = frozenset(RESERVED_ATTRS) | {
    "message",
    "asctime",
    "data",
    "task_name",
    "task_id",
    "color_message",
}

_TASK: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "channel_app_task", default=None
)


def current_task() -> tuple[str, str] | None:
    """``(task name, task id)`` of the task this code runs in, if any."""
    return _TASK.get()


def bind_task(name: str, task_id: str) -> contextvars.Token[tuple[str, str] | None]:
    return _TASK.set((name, task_id))


def unbind_task(token: contextvars.Token[tuple[str, str] | None] | None = None) -> None:
    if token is not None:
        try:
            _TASK.reset(token)
            return
        except ValueError:  # set in another context; fall through
            pass
    _TASK.set(None)


@contextmanager
def task_context(name: str, task_id: str) -> Iterator[None]:
    """Lines logged inside carry this task's name and id (``extra`` is not needed)."""
    token = bind_task(name, task_id)
    try:
        yield
    finally:
        unbind_task(token)


def _task_of(record: logging.LogRecord) -> tuple[str, str] | None:
    stamped = record.__dict__.get("_channel_task")  # set where the record was made
    task = stamped if isinstance(stamped, tuple) else _TASK.get()
    if task is not None:
        return task
    data = record.__dict__.get("data")  # Celery's own lines about a task ("received"...)
    if isinstance(data, Mapping) and data.get("id") and data.get("name"):
        return str(data["name"]), str(data["id"])
    return None


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    fields = {
        key: value
        for key, value in record.__dict__.items()
        if key not in NOT_EXTRA and not key.startswith("_")
    }
    scrubbed: dict[str, Any] = REDACTOR.scrub(fields)
    return scrubbed


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value and "=" not in value else repr(value)
    if isinstance(value, Mapping | list | tuple):
        try:
            return json.dumps(value, default=str, separators=(",", ":"))
        except (TypeError, ValueError):
            return repr(value)
    return str(value)


class TextFormatter(logging.Formatter):
    """``time LEVEL [process] logger: task[id]: message key=value ...``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        head = super().formatMessage(record)
        task = _task_of(record)
        if task is not None:
            marker = f"{record.name}: "
            head = head.replace(marker, f"{marker}{task[0]}[{task[1]}]: ", 1)
        fields = _extras(record)
        if fields:
            head += " " + " ".join(f"{key}={_compact(value)}" for key, value in fields.items())
        return head

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record: time, level, logger, process, message, task, extras."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(processName)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "processName": "process"},
            timestamp="time",
            reserved_attrs=sorted(NOT_EXTRA),
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        task = _task_of(record)
        if task is not None:
            log_data["task_name"], log_data["task_id"] = task

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        scrubbed: dict[str, Any] = REDACTOR.scrub(log_data)
        return scrubbed

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


class _QueueHandler(QueueHandler):
    """Hands records to the writer thread with what only this thread knows: the message
    merged with its arguments, the traceback as text, and the running task."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        copied = copy.copy(record)
        copied.msg = copied.message = record.getMessage()
        copied.args = None
        if record.exc_info:
            copied.exc_text = _PLAIN.formatException(record.exc_info)
            copied.exc_info = None
        copied.__dict__["_channel_task"] = _TASK.get()
        return copied


_PLAIN = logging.Formatter()


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonLineFormatter() if settings.log_format == "json" else TextFormatter()


def quiet_third_party(settings: Settings) -> None:
    """Hold chatty libraries at ``LOG_LEVEL_THIRD_PARTY`` (the app's own loggers are not)."""
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level_third_party)


def adopt_handlers(logger: logging.Logger, settings: Settings) -> None:
    """Give each of ``logger``'s handlers our formatter (Celery made the handlers)."""
    register_settings_secrets(settings)
    formatter = formatter_for(settings)
    for handler in logger.handlers:
        handler.setFormatter(formatter)
    quiet_third_party(settings)


def capture_warnings(settings: Settings) -> None:
    """Python warnings (Celery warns at start-up, before it sets up logging) become log
    records with our format, instead of free text on stderr."""
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    if not warnings_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter_for(settings))
        warnings_logger.addHandler(handler)
        warnings_logger.propagate = False


def json_notice(message: str, stream: Any = None) -> None:
    """One JSON log line written straight to the file descriptor: for notices printed
    from signal handlers, where taking logging's locks could deadlock."""
    record = {
        "level": "WARNING",
        "logger": "celery.apps.worker",
        "process": "MainProcess",
        "message": REDACTOR.redact(str(message)),
        "time": datetime.datetime.now(datetime.UTC).isoformat(),
    }
    target: Any = stream if stream is not None else sys.__stderr__
    with suppress(OSError, ValueError, AttributeError):
        os.write(target.fileno(), (json.dumps(record) + "\n").encode())


def configure_logging(settings: Settings, level: int = logging.INFO) -> QueueListener | None:
    """Root logging for processes that set none up themselves (web, Flower).

    Records go through a queue to a writer thread, so a slow stderr never stalls the
    event loop. uvicorn's own handlers are removed so its lines go through ours too, except
    access lines uvicorn was told not to write (the Procfile's ``--no-access-log`` leaves its
    access logger without a handler): a line per proxied request was about a third of the web
    process's CPU per request. Returns the listener (stopped at exit), or None when root
    already had handlers.
    """
    register_settings_secrets(settings)
    quiet_third_party(settings)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        silenced = name == "uvicorn.access" and not server_logger.hasHandlers()
        server_logger.handlers.clear()
        server_logger.propagate = not silenced
    root = logging.getLogger()
    root.setLevel(level)
    if root.handlers:
        adopt_handlers(root, settings)
        return None
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(formatter_for(settings))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root.addHandler(_QueueHandler(records))
    listener = QueueListener(records, writer, respect_handler_level=True)
    listener.start()
    atexit.register(_stop, listener)  # flush what is queued when the process ends
    return listener


def _stop(listener: QueueListener) -> None:
    if getattr(listener, "_thread", None) is not None:  # not stopped already
        listener.stop()
