"""The web app under uvicorn with the Procfile's HTTP protocol, in this process's loop:
for tests and benchmarks that must reach the protocol (the proxy's GET lane) and still
look inside the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from channel_app_template.api import server as web_server

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@contextlib.asynccontextmanager
async def serving(app: Any, *, access_log: bool = False) -> AsyncIterator[int]:
    """Serve ``app`` on a free loopback port (yielded) for the block, without access lines
    as the Procfile's line has it unless ``access_log``; no lifespan, so the caller starts
    what the app needs (``app.proxy.start()``). uvicorn's loggers are left as found."""
    loggers = [logging.getLogger(name) for name in UVICORN_LOGGERS]
    saved = [(list(x.handlers), x.level, x.propagate) for x in loggers]
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http=web_server.BoundedHttpProtocol,
            lifespan="off",
            log_config=None,
            access_log=access_log,
            proxy_headers=False,
        )
    )
    task = asyncio.ensure_future(server.serve(sockets=[listener]))
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
