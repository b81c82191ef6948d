"""Forwarding one request to Flower and streaming its answer back as it comes.

The hot path of the web process: no buffering either way, one connection slot per
exchange, and a failure mapped to the status that tells the client what happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp

from channel_app_template.api._asgi import RETRY_SOON, Headers, Receive, Scope, Send, respond
from channel_app_template.api._config import ProxyConfig
from channel_app_template.api._connections import FlowerConnections
from channel_app_template.api._exchange import (
    BodyTooLarge,
    ClientGone,
    Exchange,
    stream_body,
)
from channel_app_template.api._headers import HeaderRewriter, header
from channel_app_template.api._upstream import AnswerTooLarge, Upstream
from channel_app_template.api.waits import Busy

logger = logging.getLogger("channel_app_template.api.proxy")


class Forwarder:
    """Relays requests to :class:`Upstream` with headers rewritten by :class:`HeaderRewriter`."""

    def __init__(self, config: ProxyConfig, upstream: Upstream, headers: HeaderRewriter) -> None:
        self.config = config
        self.upstream = upstream
        self.headers = headers

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_path: bytes,
        query: bytes,
        headers: Headers,
        aliased: bool,
    ) -> None:
        length = header(headers, b"content-length")
        chunked = header(headers, b"transfer-encoding") is not None
        if length is not None and not chunked:
            if not length.isdigit():
                await respond(send, 400, b"Invalid Content-Length.\n")
                return
            if int(length) > self.config.max_body_bytes:
                await respond(send, 413, b"Request body too large.\n")
                return

        exchange = Exchange(receive)
        has_body = chunked or (length is not None and length != b"0")
        body = stream_body(exchange, self.config.max_body_bytes) if has_body else None
        if body is None:
            exchange.watch_for_disconnect()
        try:
            await self._relay(
                scope, send, raw_path, query, headers, body, length, chunked, exchange, aliased
            )
        except asyncio.CancelledError:
            if not exchange.absorb_cancel():
                raise
        finally:
            exchange.finish()

    async def _relay(
        self,
        scope: Scope,
        send: Send,
        raw_path: bytes,
        query: bytes,
        headers: Headers,
        body: AsyncIterator[bytes] | None,
        length: bytes | None,
        chunked: bool,
        exchange: Exchange,
        aliased: bool,
    ) -> None:
        upstream = self.upstream
        try:
            await upstream.acquire_slot()
        except Busy as busy:
            await respond(send, busy.status, str(busy).encode() + b"\n", [RETRY_SOON])
            return
        try:
            upstream_headers = self.headers.request(scope, headers, length, chunked, aliased)
            if body is None and scope["method"] == "GET" and upstream.direct is not None:
                head = upstream.get_head(raw_path, query, upstream_headers)
                if head is not None:
                    await self._relay_get(send, upstream.direct, head, exchange)
                    return
            target = upstream.target(raw_path, query)
            try:
                response = await upstream.request(scope["method"], target, upstream_headers, body)
            except (TimeoutError, aiohttp.ClientError, BodyTooLarge, ClientGone) as error:
                await self.answer_failure(send, error, exchange)
                return
            try:
                await self.stream_response(send, response, exchange)
            finally:
                response.release()
        finally:
            upstream.release_slot()

    async def _relay_get(
        self, send: Send, direct: FlowerConnections, head: bytes, exchange: Exchange
    ) -> None:
        """A ``GET`` without a body over the proxy's own connections to Flower."""
        config = self.config
        try:
            answer = await direct.get(head, config.connect_timeout, config.read_timeout)
        except (TimeoutError, aiohttp.ClientError) as error:
            await self.answer_failure(send, error, exchange)
            return
        try:
            parts = answer.chunks()
            await self._stream(
                send, answer.status, answer.raw_headers, parts, answer.close, exchange
            )
        finally:
            answer.release()

    async def answer_failure(self, send: Send, error: BaseException, exchange: Exchange) -> None:
        """Map a failed exchange to the status that tells the client what happened."""
        if exchange.client_gone:
            return
        if exchange.body_too_large:
            await respond(send, 413, b"Request body too large.\n")
        else:
            await respond(send, *failure_answer(error))

    async def stream_response(
        self, send: Send, response: aiohttp.ClientResponse, exchange: Exchange
    ) -> None:
        parts = _parts(response)
        await self._stream(
            send, response.status, response.raw_headers, parts, response.close, exchange
        )

    async def _stream(
        self,
        send: Send,
        status: int,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        parts: AsyncIterator[tuple[bytes, bool]],
        cut: Callable[[], None],
        exchange: Exchange,
    ) -> None:
        """Flower's answer to the client as it arrives; ``parts`` is its body as (bytes,
        whether it is the last part), ``cut`` closes Flower's side when it fails midway."""
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self.headers.response(raw_headers),
            }
        )
        try:
            async for chunk, last in parts:
                if last:  # the usual small reply: one write, no empty last chunk
                    exchange.finish()
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
        except (TimeoutError, aiohttp.ClientError) as error:
            # Headers are gone already; all we can do is cut the connection short.
            logger.warning("flower upstream failed mid-response: %s", type(error).__name__)
            cut()

    async def watched(
        self, receive: Receive, send: Send, work: Callable[[Exchange], Awaitable[None]]
    ) -> None:
        """Run ``work`` until done or until the client disconnects (which cancels it)."""
        exchange = Exchange(receive)
        exchange.watch_for_disconnect()
        try:
            await work(exchange)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            await self.answer_failure(send, error, exchange)
        except asyncio.CancelledError:
            if not exchange.absorb_cancel():
                raise
        finally:
            exchange.finish()


def failure_answer(error: BaseException) -> tuple[int, bytes]:
    """The status and text for Flower failing to answer (``error``), logged when it is
    unreachable."""
    if isinstance(error, AnswerTooLarge):
        return 502, str(error).encode() + b"\n"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return 504, b"Flower did not answer in time.\n"
    logger.warning("flower upstream unreachable: %s", type(error).__name__)
    return 502, b"Flower is unreachable.\n"


async def _parts(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[bytes, bool]]:
    """aiohttp's body as (bytes, whether it is the last part), ending with a last part."""
    content = response.content
    async for chunk in content.iter_any():
        if content.at_eof():
            yield chunk, True
            return
        yield chunk, False
    yield b"", True
