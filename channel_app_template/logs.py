"""Log set-up for our processes, with every configured secret redacted from every line.

A task author's ``raise ValueError(f"login failed: {password}")`` must not put the
password in a log file, so redaction happens on the handlers, after formatting of the
message and of the traceback, whatever logger the record came from.
"""

from __future__ import annotations

import atexit
import logging
import queue
from collections.abc import Sequence
from logging.handlers import QueueHandler, QueueListener

from channel_app_template.observability import REDACTED, secret_values
from channel_app_template.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces known secret values in a record's message and traceback."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def redact_handlers(logger: logging.Logger, settings: Settings) -> None:
    """Add the redacting filter to each of ``logger``'s handlers (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(secret_values(settings)))


def configure_logging(settings: Settings, level: int = logging.INFO) -> QueueListener | None:
    """Root logging for processes that have none of their own (the web process).

    Records go through a queue to a writer thread, so a slow stderr never stalls the
    event loop that serves the proxy. Returns the listener (stop it at shutdown).
    """
    root = logging.getLogger()
    root.setLevel(level)
    if root.handlers:
        redact_handlers(root, settings)
        return None
    writer = logging.StreamHandler()
    writer.setFormatter(logging.Formatter(LOG_FORMAT))
    writer.addFilter(RedactingFilter(secret_values(settings)))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root.addHandler(QueueHandler(records))
    listener = QueueListener(records, writer, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)  # flush what is queued when the process ends
    return listener
