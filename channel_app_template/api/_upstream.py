"""The proxy's clients to Flower: an aiohttp session, and for a ``GET`` without a body the
proxy's own connections (``_connections``), within one connection limit.

aiohttp rather than httpx: ``proxy.py`` says why (measured in ``bench/bench_proxy.py``).
Every request to Flower, forwarded or the proxy's own, takes one of
``max_connections`` slots, waiting at most ``pool_timeout`` for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from channel_app_template.api._config import ProxyConfig
from channel_app_template.api._connections import KEEPALIVE, FlowerConnections
from channel_app_template.api.waits import Busy

# The most the proxy reads whole from Flower (an emulated ``apply``'s result, say).
MAX_READ_BYTES = 16 * 1024 * 1024

Answer = tuple[int, tuple[tuple[bytes, bytes], ...], bytes]


class AnswerTooLarge(ValueError):
    """Flower's answer to a request the proxy reads whole was over the cap."""


class Upstream:
    """Flower as the proxy reaches it; :meth:`start` opens the session."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(config.max_connections)
        # GETs without a body go over our own connections (``_connections`` says why)
        parts = urlsplit(config.upstream)
        self.direct: FlowerConnections | None = None
        if parts.scheme == "http" and parts.hostname and not parts.query:
            port = parts.port or 80
            self.direct = FlowerConnections(parts.hostname, port, config.max_connections)
        self._prefix = parts.path.rstrip("/").encode("ascii", "replace")

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.config.max_connections, limit_per_host=0, keepalive_timeout=KEEPALIVE
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # never replay one caller's cookies to another
            auto_decompress=False,  # bytes, Content-Encoding and Content-Length stay consistent
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            trust_env=False,  # an HTTP_PROXY in the environment must not reroute Flower traffic
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=self.config.connect_timeout,
                sock_read=self.config.read_timeout,
            ),
        )

    async def close(self) -> None:
        if self.direct is not None:
            self.direct.close()
        if self.session is not None:
            await self.session.close()
            self.session = None

    def get_head(
        self, raw_path: bytes, query: bytes, headers: list[tuple[str, str]]
    ) -> bytes | None:
        """The head of a ``GET`` to Flower over :attr:`direct`, byte for byte as aiohttp
        would send it; ``None`` when a header could not go on the wire as is (aiohttp
        then refuses it as it always did)."""
        target = self._prefix + raw_path + (b"?" + query if query else b"")
        text = "".join([f"{name}: {value}\r\n" for name, value in headers])
        # one CR and one LF per line: none inside a name or value
        if text.count("\r") != len(headers) or text.count("\n") != len(headers):
            return None
        return b"GET " + target + b" HTTP/1.1\r\n" + text.encode("latin-1") + b"\r\n"

    async def acquire_slot(self) -> None:
        """Take a connection slot, or raise :class:`Busy` (503) after ``pool_timeout``."""
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self.config.pool_timeout)
        except TimeoutError:
            raise Busy(503, "Flower proxy is busy, try again.") from None

    def try_slot(self) -> bool:
        """Take a connection slot if one is free now, without waiting."""
        if self._slots.locked():
            return False
        taking = self._slots.acquire()
        try:
            taking.send(None)  # an unlocked semaphore is taken without a wait
        except StopIteration:
            return True
        taking.close()  # pragma: no cover - unreachable while the loop runs only us
        return False

    def release_slot(self) -> None:
        self._slots.release()

    def target(self, raw_path: bytes, query: bytes) -> URL:
        # encoded=True: the path and query reach Flower byte for byte, %2F and all.
        text = self.config.upstream + raw_path.decode("ascii")
        if query:
            text += "?" + query.decode("ascii")
        return URL(text, encoded=True)

    async def request(
        self,
        method: str,
        target: URL,
        headers: list[tuple[str, str]],
        data: bytes | AsyncIterator[bytes] | None,
    ) -> aiohttp.ClientResponse:
        """Send one request as is (no redirects followed, no compression added); the
        caller holds a slot."""
        assert self.session is not None, "FlowerProxy.start() was not awaited"
        return await self.session.request(
            method,
            target,
            headers=headers,
            data=data,
            allow_redirects=False,
            compress=None,
            chunked=None,
        )

    async def open(
        self,
        method: str,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> aiohttp.ClientResponse:
        """One short request of the proxy's own; the slot is free once headers arrive."""
        await self.acquire_slot()
        try:
            return await self.request(method, self.target(path, query), headers, body)
        finally:
            self._slots.release()

    async def fetch(
        self,
        method: str,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> Answer:
        """Status, headers and the whole body (capped); no headers: Flower's login only."""
        headers = headers or [
            ("Authorization", self.config.upstream_authorization.decode("latin-1")),
            ("Accept-Encoding", "identity"),
        ]
        response = await self.open(method, path, query, headers, body)
        try:
            return response.status, response.raw_headers, await read_capped(response)
        finally:
            response.release()


async def read_capped(response: aiohttp.ClientResponse, limit: int = MAX_READ_BYTES) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(
                f"Flower's answer is over {limit} bytes; read the task's result with "
                "GET /flower/api/task/result/<id> instead"
            )
        chunks.append(chunk)
    return b"".join(chunks)
