"""Logging for the web process: ours, with uvicorn's own choice about access lines kept."""

from __future__ import annotations

import logging

from channel_app_template.logs import configure_logging
from channel_app_template.settings import Settings

__all__ = ["configure_web_logging"]


def configure_web_logging(settings: Settings) -> None:
    """Route the web process's records through ours, access lines only if uvicorn logs them.

    uvicorn configures its loggers before it imports the app; with ``--no-access-log``
    (the Procfile's choice) its access logger is left without a handler.
    :func:`configure_logging` routes uvicorn's loggers into ours, which would turn a line
    per request back on: about a third of the web process's CPU per proxied request.
    """
    access = logging.getLogger("uvicorn.access")
    access_wanted = access.hasHandlers()
    configure_logging(settings)
    if not access_wanted:
        access.propagate = False
