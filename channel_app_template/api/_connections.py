"""Kept-alive HTTP/1.1 connections to Flower for the proxy's hot path: a ``GET`` without a
body, its answer parsed by httptools (the parser uvicorn already runs here) and streamed.

Why not aiohttp for these (issue 13, measured on uvloop as the web process runs): a bare
loop of 2 KB GETs cost 249 us of CPU per request through an aiohttp session and 79 us
through an asyncio protocol fed to httptools, and the proxy's CPU per proxied
``GET /flower/api/workers`` was mostly the upstream client's. aiohttp stays for everything
else (requests with bodies, ``HEAD``, the proxy's own calls, health checks).

The rules are aiohttp's as the proxy set them up: at most ``config.max_connections``
connections (the caller holds an :class:`~._upstream.Upstream` slot per request), idle ones
kept 30 s, ``connect_timeout`` to connect and ``read_timeout`` for each wait on Flower. The
framing rules (and the cap on an answer's head) are :mod:`channel_app_template.http_answers`.
Failures are raised as the aiohttp errors the forwarder already maps to 502 and 504. A
slow client pauses reading from Flower (``HIGH_WATER`` bytes buffered), so an answer is
never held whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import cast

import aiohttp

from channel_app_template.http_answers import AnswerReader, BadAnswer

__all__ = ["KEEPALIVE", "FlowerAnswer", "FlowerConnections", "Link"]

KEEPALIVE = 30.0  # seconds an idle connection to Flower is kept, here and by aiohttp's connector
HIGH_WATER = 256 * 1024  # bytes read ahead of a slow client before reading pauses


class Link(asyncio.Protocol):
    """One connection to Flower; one answer at a time (:attr:`answer`, ``None`` while the
    connection is idle), read by :class:`FlowerAnswer`."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.answer: AnswerReader | None = None
        # Told of every event instead of a waiting reader (the proxy's GET lane).
        self.sink: Callable[[], None] | None = None
        self.lost = False
        self.idle_since = 0.0
        self.paused = False
        self._wake: asyncio.Future[None] | None = None
        self._error: BaseException | None = None

    # --- asyncio's side ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        answer = self.answer
        if answer is None:  # nothing asked: Flower must not speak first
            self._fail(aiohttp.ServerDisconnectedError("Flower sent data nobody asked for"))
            return
        try:
            answer.feed(data)
        except BadAnswer as error:
            self._fail(aiohttp.ClientPayloadError(f"Flower: {error}"))
            return
        if answer.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake_up()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.answer is not None and not self.answer.ended() and self._error is None:
            self._error = aiohttp.ServerDisconnectedError(
                "Flower closed the connection before its answer was complete"
            )
        self._wake_up()

    # --- the caller's side -----------------------------------------------------------------
    def start(self, request: bytes) -> AnswerReader:
        """Send ``request``; its answer, as it arrives."""
        assert self.transport is not None
        self.answer = AnswerReader()
        self.transport.write(request)
        return self.answer

    async def wait(self, silence: float) -> None:
        """Until something arrives (or the connection ends); ``ServerTimeoutError`` after
        ``silence`` seconds without a byte, as aiohttp's ``sock_read``."""
        if self._error is not None:
            raise self._error
        if self.lost:
            return
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        # one timer, not ``asyncio.wait_for`` (a task and more per wait): measured cheaper
        timer = loop.call_later(silence, _time_out, wake)
        try:
            await wake
        finally:
            timer.cancel()
            self._wake = None
        if self._error is not None:
            raise self._error

    def take(self, answer: AnswerReader) -> bytes:
        """The body bytes read so far (resuming a paused read)."""
        data = answer.take()
        if self.paused and self.transport is not None and not self.lost:
            self.paused = False
            self.transport.resume_reading()
        return data

    def rest(self) -> None:
        """Idle from now on: anything Flower sends before the next request closes it."""
        self.answer = None
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self.close()
        self._wake_up()

    @property
    def error(self) -> BaseException | None:
        """Why the answer cannot be read, once that is known."""
        return self._error

    def _wake_up(self) -> None:
        if self.sink is not None:
            self.sink()
        elif self._wake is not None and not self._wake.done():
            self._wake.set_result(None)


def _time_out(wake: asyncio.Future[None]) -> None:
    if not wake.done():
        wake.set_exception(aiohttp.ServerTimeoutError("Flower did not answer in time"))


class FlowerAnswer:
    """Flower's answer to one request: ``status`` and ``raw_headers`` (as aiohttp names
    them), the body from :meth:`chunks`; :meth:`release` gives the connection back."""

    def __init__(
        self, owner: FlowerConnections, link: Link, answer: AnswerReader, read_timeout: float
    ) -> None:
        self._owner = owner
        self._link: Link | None = link
        self._answer = answer
        self._read_timeout = read_timeout
        self.status = answer.status
        self.raw_headers = tuple(answer.headers)

    def whole(self) -> bytes | None:
        """The whole body when the answer is already complete (the usual small answer
        arrives with its head), else ``None``: read it with :meth:`chunks` then."""
        link, answer = self._link, self._answer
        assert link is not None, "the answer was released"
        return link.take(answer) if answer.complete else None

    async def chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """The body as it arrives: (bytes, whether it is the last part)."""
        link, answer = self._link, self._answer
        assert link is not None, "the answer was released"
        while True:
            if answer.body or answer.complete:
                data = link.take(answer)
                if answer.complete:
                    yield data, True
                    return
                if data:
                    yield data, False
                continue
            if link.lost:
                raise aiohttp.ServerDisconnectedError(
                    "Flower closed the connection before its answer was complete"
                )
            await link.wait(self._read_timeout)

    def release(self) -> None:
        """Back to the pool when the answer was read to its end, else closed."""
        link, self._link = self._link, None
        if link is not None:
            answer = self._answer
            self._owner.put_back(link, reusable=answer.complete and answer.keep_alive)

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            self._owner.put_back(link, reusable=False)


class FlowerConnections:
    """Kept-alive connections to ``host:port``; call :meth:`close` when done."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self._idle: list[Link] = []

    async def get(
        self, request: bytes, connect_timeout: float, read_timeout: float
    ) -> FlowerAnswer:
        """Send ``request`` (a whole ``GET`` head) and wait for the answer's head."""
        link = self._idle_link()
        fresh = link is None
        if link is None:
            link = await self._connect(connect_timeout)
        try:
            answer = link.start(request)
            while not answer.head_done:
                if link.lost:
                    raise aiohttp.ServerDisconnectedError(
                        "Flower closed "
                        + ("the connection" if fresh else "a kept-alive connection")
                        + " without answering"
                    )
                await link.wait(read_timeout)
        except BaseException:
            link.close()
            raise
        return FlowerAnswer(self, link, answer, read_timeout)

    def idle(self) -> Link | None:
        """A kept-alive connection ready for a request, if one is idle now."""
        return self._idle_link()

    def put_back(self, link: Link, *, reusable: bool) -> None:
        if reusable and not link.lost and len(self._idle) < self.limit:
            link.rest()
            self._idle.append(link)
        else:
            link.close()

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for link in idle:
            link.close()

    def _idle_link(self) -> Link | None:
        now = time.monotonic()
        while self._idle:
            link = self._idle.pop()
            transport = link.transport
            if link.lost or transport is None or transport.is_closing():
                continue
            if now - link.idle_since > KEEPALIVE:
                link.close()
                continue
            return link
        return None

    async def _connect(self, within: float) -> Link:
        loop = asyncio.get_running_loop()
        try:
            _, link = await asyncio.wait_for(
                loop.create_connection(Link, self.host, self.port), within
            )
        except TimeoutError:
            raise aiohttp.ServerTimeoutError("connecting to Flower timed out") from None
        except OSError as error:
            raise aiohttp.ClientConnectionError(f"cannot connect to Flower: {error}") from None
        return link
