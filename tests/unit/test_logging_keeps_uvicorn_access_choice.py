"""Our logging keeps uvicorn's own choice about access lines (the web process)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from channel_app_template.logs import configure_logging
from channel_app_template.settings import Settings

NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in NAMES
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def root_output() -> io.StringIO:
    """Give root one handler (so no writer thread starts) and return what it writes."""
    stream = io.StringIO()
    root = logging.getLogger()
    root.handlers[:] = [logging.StreamHandler(stream)]
    return stream


def uvicorn_configured(access_log: bool) -> None:
    """The loggers as uvicorn's dictConfig leaves them, with or without --no-access-log."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.StreamHandler(io.StringIO())]
        logger.propagate = name == "uvicorn.error"
    if not access_log:
        logging.getLogger("uvicorn.access").handlers = []


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_no_access_log_stays_off_after_our_logging_is_configured() -> None:
    uvicorn_configured(access_log=False)
    output = root_output()
    configure_logging(settings())
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /flower/ HTTP/1.1" 200')
    logging.getLogger("uvicorn.error").info("Started server process")
    assert "GET /flower/" not in output.getvalue()
    assert "Started server process" in output.getvalue()


def test_access_lines_go_through_our_logging_when_uvicorn_logs_them() -> None:
    uvicorn_configured(access_log=True)
    output = root_output()
    configure_logging(settings())
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /flower/ HTTP/1.1" 200')
    assert "GET /flower/" in output.getvalue()
