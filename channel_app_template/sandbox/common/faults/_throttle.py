"""The ``trickle`` fault: a body sent at a set number of bytes per second; and the disconnect
watcher that stops it, and the streaming shaping kinds, as soon as the client goes away (so a
long answer does not outlive its test).
"""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Send


class DisconnectWatcher:
    """Learns that the client went away, so long fault answers stop producing bytes.

    The app keeps its own ``receive`` (it may read the request body first); once the app is
    done with it, ``start()`` waits for ``http.disconnect`` in the background."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.gone = False
        self._task: asyncio.Task[None] | None = None
        self._reading = False

    async def receive(self) -> Message:
        self._reading = True
        try:
            message = await self._receive()
        finally:
            self._reading = False
        if message["type"] == "http.disconnect":
            self.gone = True
        return message

    def start(self) -> None:
        if self._task is None and not self._reading and not self.gone:
            self._task = asyncio.ensure_future(self._wait())

    async def _wait(self) -> None:
        while not self.gone:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone = True
            else:  # a server that repeats request messages must not make this spin
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


THROTTLE_TICK = 0.1  # seconds between chunks of a trickled body


def throttle(send: Send, bytes_per_second: int, watcher: DisconnectWatcher) -> Send:
    """Every body byte goes out at ``bytes_per_second`` (headers at once), in chunks sent
    every 100 ms, until the client leaves."""
    chunk = max(1, min(int(bytes_per_second * THROTTLE_TICK), 65536))
    pause = chunk / bytes_per_second

    async def throttled(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        watcher.start()
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body"))
        for start in range(0, len(body), chunk):
            if watcher.gone:
                return
            piece = body[start : start + chunk]
            last = start + chunk >= len(body)
            await send({"type": "http.response.body", "body": piece, "more_body": more or not last})
            if not last or more:
                await asyncio.sleep(pause)
        if not body and not more:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return throttled
