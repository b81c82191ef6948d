"""A streaming reverse proxy from the public ``/flower/*`` to the in-cluster Flower.

It is a plain ASGI handler rather than a FastAPI route because, at the request rates the
dashboard and API produce, routing and request objects cost more than the forwarding
itself. The upstream client is aiohttp: in our benchmark (``bench/bench_proxy.py``) it
forwarded several times more requests per second per core than httpx or httpcore.

Every rule of ``flower.md`` section 4 is implemented here; the regression tests in
``tests/integration/test_proxy_*.py`` name the rule (P01..P23) they protect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

import aiohttp
from yarl import URL

from channel_app_template.api.auth import CHALLENGE, Access
from channel_app_template.api.login import LoginGate, Verdict
from channel_app_template.api.waits import (
    APPLY_PREFIX,
    ASYNC_APPLY_PREFIX,
    FIRST_POLL_DELAY,
    MAX_POLL_DELAY,
    RESULT_PREFIX,
    BadWait,
    Busy,
    OnlineWorkers,
    WaitKind,
    WaitLimiter,
    WaitLimits,
    apply_answer,
    classify,
    inspected_worker,
    is_ready,
    query_values,
    requested_timeout,
    task_id_of,
    without_parameter,
)

__all__ = [
    "AnswerTooLarge",
    "FlowerProxy",
    "ProxyConfig",
    "Receive",
    "Scope",
    "Send",
    "refuse_login",
    "running",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger(__name__)

PREFIX = b"/flower"
# Flower's task API is also served at the root, where the incumbent app's Flower (no
# prefix) had it and where its trigger scripts still call it: /api/x is /flower/api/x.
ALIAS = b"/api/"
# A poll answer bigger than this holds a result: it is streamed, not parsed.
POLL_BUFFER_BYTES = 64 * 1024
# The most an emulated ``apply`` reads to put a task's result into its answer.
MAX_APPLY_RESULT_BYTES = 16 * 1024 * 1024
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Dropped from requests on top of hop-by-hop: the proxy sets these itself.
REQUEST_OWNED = frozenset(
    {
        b"host",
        b"content-length",
        b"expect",
        b"authorization",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
    }
)
# Dropped from responses on top of hop-by-hop: uvicorn sends its own.
RESPONSE_OWNED = frozenset({b"server", b"date"})
NOT_VISIBLE_ASCII = re.compile(rb"[^\x21-\x7e]")
FORBIDDEN_DECODED = re.compile(rb"[\\\x00-\x1f\x7f]")
DOT_SEGMENT = re.compile(rb"/\.\.?(?:/|$)")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read-only POSTs: the dashboard's task table asks for its rows with a POST.
READ_ONLY_POSTS = frozenset({b"/flower/tasks/datatable"})


@dataclass(frozen=True)
class ProxyConfig:
    """What the proxy needs to know; built from settings in :mod:`channel_app_template.api.app`."""

    upstream: str
    gate: LoginGate
    upstream_authorization: bytes
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    pool_timeout: float = 5.0
    max_connections: int = 100
    max_body_bytes: int = 65_536
    trust_forwarded_headers: bool = False
    waits: WaitLimits = field(default_factory=WaitLimits)


class BodyTooLarge(Exception):
    """The client sent more than ``max_body_bytes``."""


class ClientGone(Exception):
    """The client disconnected while we were still reading its request body."""


class AnswerTooLarge(ValueError):
    """Flower's answer to a request the proxy reads whole was over the cap."""


class FlowerProxy:
    """The ASGI handler for ``/flower`` and ``/flower/...``; call :meth:`start` first."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        parts = urlsplit(config.upstream)
        self._upstream_origin = f"{parts.scheme}://{parts.netloc}".encode()
        self._upstream_host = parts.netloc.encode()
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(config.max_connections)
        self.waits = WaitLimiter(config.waits)
        self.online_workers = OnlineWorkers(self._worker_status)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The upstream client, for health checks that talk to Flower directly."""
        return self._session

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.config.max_connections, limit_per_host=0, keepalive_timeout=30
        )
        self._session = aiohttp.ClientSession(
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
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        headers: list[tuple[bytes, bytes]] = scope["headers"]

        admission = self.config.gate.admit(scope, _header(headers, b"authorization"))
        caller = admission.caller
        if caller is None:
            await refuse_login(send, admission.verdict, admission.retry_after)
            return
        if raw_path == PREFIX:
            location = b"/flower/" + (b"?" + query if query else b"")
            await _respond(send, 307, b"", [(b"location", location)])
            return
        aliased = raw_path.startswith(ALIAS)
        path = PREFIX + raw_path if aliased else raw_path
        problem = _path_problem(path, query)
        if problem:
            await _respond(send, 400, problem.encode() + b"\n")
            return
        method: str = scope["method"]
        if not _is_read(method, path):
            # An audit trail of who triggered, revoked or reconfigured what.
            allowed = caller.access is Access.FULL
            logger.info(
                "flower %s by %s: %s %s",
                "change" if allowed else "change refused",
                caller.username,
                method,
                raw_path.decode("ascii", "replace")[:200],
            )
            if not allowed:
                await _respond(send, 403, b"Read-only users cannot change anything.\n")
                return
        elif method in ("GET", "HEAD") and _has_body(headers):
            # Flower reads arguments from form bodies too, so a body could carry a
            # ``timeout`` or ``refresh`` past the rules below; GETs never need one.
            await _respond(send, 400, b"GET and HEAD requests must not have a body.\n")
            return
        kind = classify(method, path, query)
        if kind is None:
            await self._forward(scope, receive, send, path, query, headers, aliased)
            return
        try:
            # Checked before taking a wait: a 404 costs nobody anything.
            if kind is WaitKind.FLOWER and await self._inspects_an_unavailable_worker(
                send, path, query
            ):
                return
            async with self.waits.hold(caller.username, kind):
                if kind is WaitKind.FLOWER:
                    await self._forward(scope, receive, send, path, query, headers, aliased)
                elif kind is WaitKind.RESULT:
                    await self._wait_for_result(scope, receive, send, path, query, headers)
                else:
                    await self._apply(scope, receive, send, path, query, headers)
        except Busy as busy:
            await _respond(send, busy.status, str(busy).encode() + b"\n", [_RETRY_SOON])

    # --- Waits the proxy takes over from Flower (see api/waits.py) ----------------------

    async def _inspects_an_unavailable_worker(self, send: Send, path: bytes, query: bytes) -> bool:
        """Answer 404 for an inspection of a worker Flower does not list as online: it
        would hold Flower's threads a second per inspect for replies that never come."""
        worker = inspected_worker(path, query)
        if not worker:
            return False
        try:
            online = await self.online_workers.names()
        except (TimeoutError, aiohttp.ClientError, ValueError):
            await _respond(send, 502, b"Flower is unreachable.\n")
            return True
        if worker in online:
            return False
        await _respond(send, 404, b"Unknown or offline worker.\n")
        return True

    async def _worker_status(self) -> dict[str, bool]:
        status, _, body = await self._fetch("GET", PREFIX + b"/api/workers", b"status=1", [])
        data = json.loads(body) if status == 200 else None
        if not isinstance(data, dict):
            raise ValueError(f"Flower answered {status} to the worker list")
        return {str(name): bool(online) for name, online in data.items()}

    async def _wait_for_result(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        values = query_values(query, "timeout")
        try:
            wanted = requested_timeout(values[-1]) if values else None
        except BadWait as error:
            await _respond(send, 400, str(error).encode() + b"\n")
            return
        stripped = without_parameter(query, "timeout")
        if not wanted or wanted <= 0:  # Flower reads at once too
            await self._forward(scope, receive, send, path, stripped, headers, False)
            return
        wait = min(wanted, self.config.waits.max_wait)
        poll_headers = self._request_headers(scope, _host_only(headers), None, False)

        async def work(exchange: _Exchange) -> None:
            answer = await self._poll(path, stripped, poll_headers, wait, stream_big=True)
            if isinstance(answer, aiohttp.ClientResponse):
                try:
                    await self._stream_response(send, answer, exchange)
                finally:
                    answer.release()
            else:
                status, raw_headers, body = answer
                await _send_whole(send, status, self._response_headers(raw_headers), body)

        await self._watched(receive, send, work)

    async def _apply(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        """Flower's synchronous ``apply``, without holding Flower while the task runs:
        ``async-apply``, then the proxy polls the result; the answer has apply's shape."""
        body = await self._read_body(receive, send, headers)
        if body is None:
            return
        wait = self.config.waits.max_wait
        try:
            options = json.loads(body) if body.strip() else {}
        except ValueError:
            options = None  # async-apply answers Flower's own 400 for it
        if isinstance(options, dict) and "timeout" in options:
            try:
                wanted = requested_timeout(options.pop("timeout"))
            except BadWait as error:
                await _respond(send, 400, str(error).encode() + b"\n")
                return
            if wanted is not None:
                wait = min(max(wanted, 0.0), wait)
            body = json.dumps(options).encode()
        publish = ASYNC_APPLY_PREFIX + path[len(APPLY_PREFIX) :]
        publish_headers = self._request_headers(scope, headers, str(len(body)).encode(), False)
        poll_headers = self._request_headers(scope, _host_only(headers), None, False)

        async def work(exchange: _Exchange) -> None:
            status, raw_headers, answer = await self._fetch(
                "POST", publish, query, publish_headers, body
            )
            task_id = task_id_of(answer) if status == 200 else None
            if task_id is None:  # Flower's own refusal (404 unknown task, 400...) as is
                await _send_whole(send, status, self._response_headers(raw_headers), answer)
                return
            result_path = RESULT_PREFIX + quote(task_id, safe="").encode()
            polled = await self._poll(result_path, b"", poll_headers, wait, stream_big=False)
            assert not isinstance(polled, aiohttp.ClientResponse)
            status, raw_headers, answer = polled
            reply = apply_answer(task_id, answer) if status == 200 else None
            if reply is None:
                await _send_whole(send, status, self._response_headers(raw_headers), answer)
            else:
                await _send_whole(send, 200, [_JSON], reply)

        await self._watched(receive, send, work)

    async def _poll(
        self,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        wait: float,
        *,
        stream_big: bool,
    ) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes] | aiohttp.ClientResponse:
        """Read a task's result until it is ready or ``wait`` seconds have passed; each
        read returns at once, so Flower is never held. Returns the last answer, or, for
        an answer too big to buffer (``stream_big``), the response to stream."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        delay = FIRST_POLL_DELAY
        while True:
            response = await self._open("GET", path, query, headers)
            big = (response.content_length or 0) > POLL_BUFFER_BYTES
            if stream_big and (big or response.status != 200):
                return response  # the caller streams and releases it
            try:
                body = await _read_capped(response, MAX_APPLY_RESULT_BYTES)
            finally:
                response.release()
            answer = (response.status, response.raw_headers, body)
            remaining = deadline - loop.time()
            if response.status != 200 or remaining <= 0 or is_ready(body):
                return answer
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_DELAY)

    async def _open(
        self,
        method: str,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> aiohttp.ClientResponse:
        """One short request to Flower, within the proxy's connection limit."""
        assert self._session is not None, "FlowerProxy.start() was not awaited"
        await self._acquire_slot()
        try:
            return await self._session.request(
                method,
                self._target(path, query),
                headers=headers,
                data=body,
                allow_redirects=False,
                compress=None,
            )
        finally:
            self._slots.release()

    async def _fetch(
        self,
        method: str,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes]:
        headers = headers or [
            ("Authorization", self.config.upstream_authorization.decode("latin-1")),
            ("Accept-Encoding", "identity"),
        ]
        response = await self._open(method, path, query, headers, body)
        try:
            return (
                response.status,
                response.raw_headers,
                await _read_capped(response, MAX_APPLY_RESULT_BYTES),
            )
        finally:
            response.release()

    async def _acquire_slot(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self.config.pool_timeout)
        except TimeoutError:
            raise Busy(503, "Flower proxy is busy, try again.") from None

    async def _read_body(
        self, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]]
    ) -> bytes | None:
        """The whole (small, capped) request body, or ``None`` once answered."""
        length = _header(headers, b"content-length")
        if length is not None and (
            not length.isdigit() or int(length) > self.config.max_body_bytes
        ):
            too_big = length.isdigit()
            await _respond(
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
            if received > self.config.max_body_bytes:
                await _respond(send, 413, b"Request body too large.\n")
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _watched(
        self, receive: Receive, send: Send, work: Callable[[_Exchange], Awaitable[None]]
    ) -> None:
        """Run ``work`` until done or until the client disconnects (which cancels it)."""
        exchange = _Exchange(receive)
        exchange.watch_for_disconnect()
        try:
            await work(exchange)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            await self._answer_failure(send, error, exchange)
        except asyncio.CancelledError:
            if not exchange.client_gone:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        finally:
            exchange.finish()

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        aliased: bool,
    ) -> None:
        length = _header(headers, b"content-length")
        chunked = _header(headers, b"transfer-encoding") is not None
        if length is not None and not chunked:
            if not length.isdigit():
                await _respond(send, 400, b"Invalid Content-Length.\n")
                return
            if int(length) > self.config.max_body_bytes:
                await _respond(send, 413, b"Request body too large.\n")
                return

        exchange = _Exchange(receive)
        has_body = chunked or (length is not None and length != b"0")
        body = self._stream_body(exchange) if has_body else None
        if body is None:
            exchange.watch_for_disconnect()
        try:
            await self._relay(
                scope, send, raw_path, query, headers, body, length, chunked, exchange, aliased
            )
        except asyncio.CancelledError:
            if not exchange.client_gone:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        finally:
            exchange.finish()

    async def _relay(
        self,
        scope: Scope,
        send: Send,
        raw_path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes] | None,
        length: bytes | None,
        chunked: bool,
        exchange: _Exchange,
        aliased: bool,
    ) -> None:
        assert self._session is not None, "FlowerProxy.start() was not awaited"
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self.config.pool_timeout)
            except TimeoutError:
                await _respond(
                    send, 503, b"Flower proxy is busy, try again.\n", [(b"retry-after", b"1")]
                )
                return
        else:
            await self._slots.acquire()
        try:
            target = self._target(raw_path, query)
            upstream_headers = self._request_headers(scope, headers, length, chunked, aliased)
            try:
                response = await self._session.request(
                    scope["method"],
                    target,
                    headers=upstream_headers,
                    data=body,
                    allow_redirects=False,
                    compress=None,
                    chunked=None,
                )
            except (TimeoutError, aiohttp.ClientError, BodyTooLarge, ClientGone) as error:
                await self._answer_failure(send, error, exchange)
                return
            try:
                await self._stream_response(send, response, exchange)
            finally:
                response.release()
        finally:
            self._slots.release()

    async def _answer_failure(self, send: Send, error: BaseException, exchange: _Exchange) -> None:
        """Map a failed exchange to the status that tells the client what happened."""
        if exchange.client_gone:
            return
        if exchange.body_too_large:
            await _respond(send, 413, b"Request body too large.\n")
        elif isinstance(error, AnswerTooLarge):
            await _respond(send, 502, str(error).encode() + b"\n")
        elif isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
            await _respond(send, 504, b"Flower did not answer in time.\n")
        else:
            logger.warning("flower upstream unreachable: %s", type(error).__name__)
            await _respond(send, 502, b"Flower is unreachable.\n")

    async def _stream_response(
        self, send: Send, response: aiohttp.ClientResponse, exchange: _Exchange
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": self._response_headers(response.raw_headers),
            }
        )
        content = response.content
        try:
            async for chunk in content.iter_any():
                if content.at_eof():  # the usual small reply: one write, no empty last chunk
                    exchange.finish()
                    await send({"type": "http.response.body", "body": chunk, "more_body": False})
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (TimeoutError, aiohttp.ClientError) as error:
            # Headers are gone already; all we can do is cut the connection short.
            logger.warning("flower upstream failed mid-response: %s", type(error).__name__)
            response.close()
            return
        exchange.finish()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream_body(self, exchange: _Exchange) -> AsyncIterator[bytes]:
        received = 0
        while True:
            message = await exchange.receive()
            if message["type"] == "http.disconnect":
                exchange.client_gone = True
                raise ClientGone
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.config.max_body_bytes:
                exchange.body_too_large = True
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                exchange.watch_for_disconnect()
                return

    def _target(self, raw_path: bytes, query: bytes) -> URL:
        # encoded=True: the path and query reach Flower byte for byte, %2F and all.
        text = self.config.upstream + raw_path.decode("ascii")
        if query:
            text += "?" + query.decode("ascii")
        return URL(text, encoded=True)

    def _request_headers(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        length: bytes | None,
        chunked: bool,
        aliased: bool = False,
    ) -> list[tuple[str, str]]:
        nominated = _connection_nominated(headers)
        forwarded: list[tuple[str, str]] = []
        host: bytes | None = None
        accept_encoding = False
        incoming_for = incoming_proto = None
        for name, value in headers:
            if name == b"host":
                host = value
            elif name == b"x-forwarded-for":
                incoming_for = value
            elif name == b"x-forwarded-proto":
                incoming_proto = value
            if name in HOP_BY_HOP or name in REQUEST_OWNED or name in nominated:
                continue
            if name == b"accept-encoding":
                accept_encoding = True
            forwarded.append((name.decode("latin-1"), value.decode("latin-1")))

        client = scope.get("client")
        client_ip = client[0] if client else "unknown"
        public_host = (host or self._upstream_host).decode("latin-1")
        chain = client_ip
        proto = scope.get("scheme", "http")
        if self.config.trust_forwarded_headers:
            if incoming_for:
                chain = f"{incoming_for.decode('latin-1')}, {client_ip}"
            if incoming_proto:
                proto = incoming_proto.decode("latin-1")
        # Flower's CSRF check compares Origin with Host, so Flower must see the public Host.
        forwarded += [
            ("Host", public_host),
            ("Authorization", self.config.upstream_authorization.decode("latin-1")),
            ("X-Forwarded-For", chain),
            ("X-Forwarded-Proto", proto),
            ("X-Forwarded-Host", public_host),
            ("X-Real-IP", client_ip),
        ]
        if not aliased:  # /api/x reaches Flower as /flower/api/x: a prefix added, not removed
            forwarded.append(("X-Forwarded-Prefix", "/flower"))
        if not accept_encoding:
            forwarded.append(("Accept-Encoding", "identity"))
        # A chunked body is framed by aiohttp itself (it streams an unsized body chunked).
        if not chunked and length is not None:
            forwarded.append(("Content-Length", length.decode("latin-1")))
        return forwarded

    def _response_headers(
        self, raw_headers: tuple[tuple[bytes, bytes], ...]
    ) -> list[tuple[bytes, bytes]]:
        nominated = _connection_nominated(raw_headers)
        result = []
        for raw_name, value in raw_headers:
            name = raw_name.lower()
            if name in HOP_BY_HOP or name in RESPONSE_OWNED or name in nominated:
                continue
            if name == b"location" and value.startswith(self._upstream_origin):
                value = value[len(self._upstream_origin) :] or b"/"
            result.append((name, value))
        return result


class _Exchange:
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


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _connection_nominated(headers: Any) -> frozenset[bytes]:
    names: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(token.strip().lower() for token in value.split(b","))
    return frozenset(names)


def _path_problem(raw_path: bytes, query: bytes) -> str | None:
    """Why this path may not be forwarded, or ``None``; checked on the decoded form."""
    if not raw_path.startswith(PREFIX + b"/"):
        return "Only /flower/ paths are proxied."
    if NOT_VISIBLE_ASCII.search(raw_path) or NOT_VISIBLE_ASCII.search(query):
        return "Path and query must be ASCII without spaces or control characters."
    decoded = unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path
    if FORBIDDEN_DECODED.search(decoded):
        return "Path contains a backslash or a control character."
    if DOT_SEGMENT.search(decoded):
        return "Path contains a dot segment."
    return None


def _is_read(method: str, raw_path: bytes) -> bool:
    return method in SAFE_METHODS or (method == "POST" and raw_path in READ_ONLY_POSTS)


_RETRY_SOON = (b"retry-after", b"1")
_JSON = (b"content-type", b"application/json; charset=UTF-8")


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    length = _header(headers, b"content-length")
    return _header(headers, b"transfer-encoding") is not None or (
        length is not None and length.strip() != b"0"
    )


def _host_only(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's headers a poll of our own carries: only the public Host."""
    return [(name, value) for name, value in headers if name == b"host"]


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
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


async def _send_whole(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    kept = [(k, v) for k, v in headers if k not in (b"content-length", b"transfer-encoding")]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def refuse_login(send: Send, verdict: Verdict, retry_after: int = 0) -> None:
    """401 with a challenge, or 429 while the client is locked out."""
    if verdict is Verdict.THROTTLED:
        await _respond(
            send,
            429,
            b"Too many failed logins; try again later.\n",
            [(b"retry-after", str(retry_after).encode())],
        )
    else:
        await _respond(send, 401, b"Authentication required.\n", [(b"www-authenticate", CHALLENGE)])


async def _respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


@contextlib.asynccontextmanager
async def running(proxy: FlowerProxy) -> AsyncIterator[FlowerProxy]:
    """Start ``proxy`` for the lifetime of the block."""
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
