"""One request's side facing its client: reading the body, noticing the client left.

A client that disconnects cancels the work done for it, so an abandoned request does
not keep Flower busy; a body over ``max_body_bytes`` is refused, never buffered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from channel_app_template.api._asgi import Headers, Receive, Send, respond
from channel_app_template.api._headers import header


class BodyTooLarge(Exception):
    """The client sent more than ``max_body_bytes``."""


class ClientGone(Exception):
    """The client disconnected while we were still reading its request body."""


class Exchange:
    """One request's link to its client: who reads ``receive`` and whether the client left.

    Once the request body has been read, a watcher waits for ``http.disconnect`` and
    cancels the forwarding, so an abandoned request does not keep Flower busy. Most
    exchanges finish within milliseconds, so the watcher is only started for those still
    running after ``WATCH_AFTER`` seconds: a task per request measurably lengthened the
    latency tail under load.
    """

    WATCH_AFTER = 0.25

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.client_gone = False
        self.body_too_large = False
        self._finished = False
        self._watcher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._owner = asyncio.current_task()

    def watch_for_disconnect(self) -> None:
        if self._timer is None and not self._finished:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.WATCH_AFTER, self._start_watcher)

    def _start_watcher(self) -> None:
        if self._watcher is None and not self._finished:
            self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
        if not self._finished and self._owner is not None:
            self.client_gone = True
            self._owner.cancel()

    def finish(self) -> None:
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()

    def absorb_cancel(self) -> bool:
        """After a ``CancelledError``: whether the watcher caused it because the client
        left (then the task is uncancelled: there is nobody to answer)."""
        if not self.client_gone:
            return False
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        return True


async def stream_body(exchange: Exchange, max_bytes: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, for aiohttp to stream on to Flower."""
    received = 0
    while True:
        message = await exchange.receive()
        if message["type"] == "http.disconnect":
            exchange.client_gone = True
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        received += len(chunk)
        if received > max_bytes:
            exchange.body_too_large = True
            raise BodyTooLarge
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            exchange.watch_for_disconnect()
            return


async def read_body(receive: Receive, send: Send, headers: Headers, max_bytes: int) -> bytes | None:
    """The whole (small, capped) request body, or ``None`` once answered."""
    length = header(headers, b"content-length")
    if length is not None and (not length.isdigit() or int(length) > max_bytes):
        too_big = length.isdigit()
        await respond(
            send,
            413 if too_big else 400,
            b"Request body too large.\n" if too_big else b"Invalid Content-Length.\n",
        )
        return None
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        received += len(chunk)
        if received > max_bytes:
            await respond(send, 413, b"Request body too large.\n")
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
