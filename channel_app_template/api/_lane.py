"""The proxy's hot path without an ASGI cycle: a plain ``GET`` served from the HTTP protocol.

Why: most of what the dashboard and API send is a ``GET`` without a body that every rule
lets through unchanged. Through uvicorn's ASGI cycle (its request/response cycle, the
ASGI messages, our disconnect watcher) such a request cost the web process more CPU than
the proxy's target allows; served here, from the protocol's ``on_headers_complete``
(``server.BoundedHttpProtocol``), and over an idle kept-alive connection to Flower driven
by that connection's events (no task, future or wait), it fits (``bench/bench_proxy.py``;
the figures are in the README's "Performance").

The lane takes a request only when the ASGI handler would forward it as is and uvicorn
writes no access line (the Procfile's ``--no-access-log``): ``GET``, HTTP/1.1 kept
alive, no body or ``Expect``, not pipelined behind an unfinished answer, under the
connection limit, a path ``_paths`` serves that causes no wait (``waits.classify``),
headers that go on the wire as they are. It decides that before anything with a side
effect, then admits the caller with the same
:class:`~channel_app_template.api.login.LoginGate` (a refusal is answered here, so a
failure is counted once). Everything else goes the ASGI way, through the same rules.
Answers are framed as uvicorn frames them (its status lines and default headers).
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Coroutine
from typing import Any, cast

import aiohttp
import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from channel_app_template.api._asgi import (
    RETRY_SOON,
    Headers,
    Message,
    Scope,
    plain_headers,
    refuse_login,
    respond,
)
from channel_app_template.api._coalesce import CoalescingTransport
from channel_app_template.api._config import ProxyConfig
from channel_app_template.api._connections import FlowerAnswer, FlowerConnections, Link
from channel_app_template.api._forward import failure_answer
from channel_app_template.api._headers import HeaderRewriter, header
from channel_app_template.api._paths import ALIAS, PREFIX, path_problem
from channel_app_template.api._upstream import Upstream
from channel_app_template.api.waits import Busy, classify
from channel_app_template.http_answers import AnswerReader

__all__ = ["GetLane", "LaneCycle"]

logger = logging.getLogger("channel_app_template.api.proxy")

_SERVED = (PREFIX + b"/", ALIAS)
# A request carrying any of these goes the ASGI way (it has, or announces, a body).
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"expect"})
_NO_BODY_STATUSES = frozenset({204, 304})
REMEMBERED_HEADS = 256  # the most heads to Flower remembered at once (cleared when full)
# The lane's own failure, answered as uvicorn answers an app's: 500, then the connection ends.
_INTERNAL_ERROR = (500, b"Internal Server Error\n", [(b"connection", b"close")])


class _NoEvent:
    """uvicorn sets its cycle's message event when the request ends; nobody waits here."""

    def set(self) -> None:
        pass


_NO_EVENT = _NoEvent()


class LaneCycle:
    """Stands where uvicorn keeps a request's cycle, with the attributes uvicorn reads and
    sets (a pipelined request waits behind it; a lost connection cancels it)."""

    def __init__(self) -> None:
        self.response_started = False
        self.response_complete = False
        self.disconnected = False
        self.keep_alive = True
        self.more_body = False
        self.message_event = _NO_EVENT
        self.task: asyncio.Task[None] | None = None
        self.relay: _Relay | None = None

    def cancel(self) -> None:
        """The client left before its answer was complete: stop waiting on Flower."""
        if self.response_complete:
            return
        if self.relay is not None:
            self.relay.abort()
        if self.task is not None:
            self.task.cancel()


class _Writer:
    """Writes one answer on the client's connection, framed as uvicorn frames one; also
    an ASGI ``send`` for the proxy's own short answers (``respond``, ``refuse_login``).

    The head leaves with the first part of the body, in one write: the usual answer is
    a single write and no loop step later (``_coalesce`` holds uvicorn's writes for that).
    """

    def __init__(self, protocol: HttpToolsProtocol, cycle: LaneCycle) -> None:
        self.protocol = protocol
        self.cycle = cycle
        self.chunked = False
        self._head = b""
        transport = protocol.transport
        self._write = (
            transport.write_now if isinstance(transport, CoalescingTransport) else transport.write
        )

    def start(self, status: int, headers: Headers) -> None:
        parts = [STATUS_LINE[status]]
        sized = False
        for name, value in (*self.protocol.server_state.default_headers, *headers):
            sized = sized or name == b"content-length"
            if name == b"connection" and b"close" in value.lower():
                self.cycle.keep_alive = False  # as uvicorn's send reads it
            parts += (name, b": ", value, b"\r\n")
        self.chunked = not sized and status not in _NO_BODY_STATUSES
        if self.chunked:
            parts.append(b"transfer-encoding: chunked\r\n")
        head = b"".join(parts)
        lines = len(parts) // 4 + self.chunked  # one CR and one LF per header line
        if head.count(b"\r") != lines + 1 or head.count(b"\n") != lines + 1:
            raise RuntimeError("a header name or value holds a CR or LF")
        self._head = head + b"\r\n"

    def body(self, data: bytes, last: bool) -> None:
        if self.chunked:
            framed = [b"%x\r\n" % len(data), data, b"\r\n"] if data else []
            if last:
                framed.append(b"0\r\n\r\n")
            data = b"".join(framed)
        if self._head:
            data = self._head + data
            self._head = b""
            self.cycle.response_started = True
        if data and not self.protocol.transport.is_closing():
            self._write(data)
        if last:
            self.cycle.response_complete = True

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start(message["status"], list(message.get("headers", [])))
        else:
            self.body(message.get("body", b""), not message.get("more_body", False))


class GetLane:
    """Serves the ``GET`` requests the proxy forwards unchanged, from the HTTP protocol."""

    def __init__(self, config: ProxyConfig, upstream: Upstream, rewriter: HeaderRewriter) -> None:
        self.config = config
        self.upstream = upstream
        self.rewriter = rewriter
        self._heads: dict[tuple[Any, ...], bytes] = {}

    def _head_for(
        self, scope: Scope, raw_path: bytes, query: bytes, headers: Headers
    ) -> bytes | None:
        """The head of the GET to Flower for this request, or ``None`` when the lane must
        leave the request to the ASGI way (a body, a path rule, a wait, a header that
        cannot go on the wire as is)."""
        for name, _ in headers:
            if name in _BODY_HEADERS:
                return None
        aliased = raw_path.startswith(ALIAS)
        path = PREFIX + raw_path if aliased else raw_path
        if path_problem(path, query) is not None or classify("GET", path, query) is not None:
            return None
        upstream_headers = self.rewriter.request(scope, headers, None, False, aliased)
        return self.upstream.get_head(path, query, upstream_headers)

    def take(self, protocol: HttpToolsProtocol) -> bool:
        """Serve the request whose headers ``protocol`` just parsed; ``False`` leaves it to
        uvicorn (nothing was changed or counted)."""
        direct = self.upstream.direct
        cycle = protocol.cycle
        parser = protocol.parser
        if (
            direct is None
            or protocol.root_path
            or (cycle is not None and not cycle.response_complete)
            or protocol.pipeline
            or parser.get_method() != b"GET"
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
            or protocol.access_log  # uvicorn writes access lines only on the ASGI way
        ):
            return False
        limit = protocol.limit_concurrency
        if limit is not None and (
            len(protocol.connections) >= limit or len(protocol.tasks) >= limit
        ):
            return False  # uvicorn answers 503
        try:
            url = httptools.parse_url(protocol.url)
        except httptools.HttpParserInvalidURLError:
            return False  # uvicorn answers 400
        raw_path: bytes = url.path
        if not raw_path.startswith(_SERVED):
            return False
        headers = protocol.headers
        query: bytes = url.query or b""
        scope = cast(Scope, protocol.scope)
        client = scope.get("client")
        # Everything the head to Flower is made of: the same request again (a dashboard's
        # or a script's poll) needs no second look at its path, query and headers.
        key = (raw_path, query, tuple(headers), client[0] if client else None, scope["scheme"])
        head = self._heads.get(key)
        if head is None:
            head = self._head_for(scope, raw_path, query, headers)
            if head is None:
                return False
            if len(self._heads) >= REMEMBERED_HEADS:
                self._heads.clear()
            self._heads[key] = head
        text = raw_path.decode("ascii")
        scope["method"] = "GET"
        scope["path"] = urllib.parse.unquote(text) if "%" in text else text
        scope["raw_path"] = raw_path
        scope["query_string"] = query

        # From here on the lane answers, whatever happens.
        lane_cycle = LaneCycle()
        protocol.cycle = lane_cycle  # type: ignore[assignment]
        writer = _Writer(protocol, lane_cycle)
        admission = self.config.gate.admit(scope, header(headers, b"authorization"))
        caller = admission.caller
        if caller is not None and self.upstream.try_slot():
            link = direct.idle()
            if link is not None:  # the usual case: no task, no future, no wait
                lane_cycle.relay = _Relay(self, protocol, lane_cycle, writer, direct, link)
                lane_cycle.relay.start(head)
                return True
            self.upstream.release_slot()
        work = (
            refuse_login(writer, admission.verdict, admission.retry_after)
            if caller is None
            else self._relay(writer, direct, head)
        )
        self.in_task(protocol, lane_cycle, writer, work)
        return True

    def in_task(
        self,
        protocol: HttpToolsProtocol,
        cycle: LaneCycle,
        writer: _Writer,
        work: Coroutine[Any, Any, None],
    ) -> None:
        """Answer with ``work`` in a task uvicorn knows of (it waits for it on shutdown)."""
        task = protocol.loop.create_task(self._run(protocol, cycle, writer, work))
        cycle.task = task
        protocol.tasks.add(task)
        task.add_done_callback(protocol.tasks.discard)

    async def _run(
        self,
        protocol: HttpToolsProtocol,
        cycle: LaneCycle,
        writer: _Writer,
        work: Coroutine[Any, Any, None],
    ) -> None:
        try:
            await work
        except asyncio.CancelledError:
            if not cycle.disconnected:
                raise  # the server is stopping: uvicorn cancels what is left
        except Exception:
            logger.exception("the proxy failed to answer a GET")
            if not cycle.response_started:
                await respond(writer, *_INTERNAL_ERROR)
            cycle.keep_alive = False
        finally:
            _finish(protocol, cycle)

    async def _relay(self, writer: _Writer, direct: FlowerConnections, head: bytes) -> None:
        config, upstream = self.config, self.upstream
        try:
            await upstream.acquire_slot()
        except Busy as busy:
            await respond(writer, busy.status, str(busy).encode() + b"\n", [RETRY_SOON])
            return
        try:
            try:
                answer = await direct.get(head, config.connect_timeout, config.read_timeout)
            except (TimeoutError, aiohttp.ClientError) as error:
                await respond(writer, *failure_answer(error))
                return
            try:
                writer.start(answer.status, self.rewriter.response(answer.raw_headers))
                whole = answer.whole()
            except BaseException:
                answer.close()
                raise
            if whole is not None:  # the usual answer: here with its head
                writer.body(whole, True)
                answer.release()
                return
            await self.stream(writer, answer)
        finally:
            upstream.release_slot()

    async def stream(self, writer: _Writer, answer: FlowerAnswer) -> None:
        """The rest of an answer whose head is written (or held), as it arrives."""
        try:
            flow = writer.protocol.flow
            async for chunk, last in answer.chunks():
                if flow.write_paused and not writer.cycle.disconnected:
                    await flow.drain()  # a slow client: Flower's side pauses too
                writer.body(chunk, last)
        except (TimeoutError, aiohttp.ClientError) as error:
            logger.warning("flower upstream failed mid-response: %s", type(error).__name__)
            answer.close()
        finally:
            answer.release()


def _finish(protocol: HttpToolsProtocol, cycle: LaneCycle) -> None:
    """The answer is over: keep the connection for the next request, or close it when the
    answer was cut short or the connection must not be kept."""
    if not cycle.response_complete:
        protocol.transport.close()  # an answer cut short: the client must know
        return
    if not cycle.keep_alive:
        protocol.transport.close()
    protocol.on_response_complete()


class _Relay:
    """One GET over an idle connection to Flower, driven by the connection's events: an
    answer that arrives whole is written without a task, a future or a wait; one still
    arriving after its head continues in a task (:meth:`GetLane.stream`)."""

    def __init__(
        self,
        lane: GetLane,
        protocol: HttpToolsProtocol,
        cycle: LaneCycle,
        writer: _Writer,
        direct: FlowerConnections,
        link: Link,
    ) -> None:
        self.lane, self.protocol, self.cycle, self.writer = lane, protocol, cycle, writer
        self.direct, self.link = direct, link
        self.answer: AnswerReader | None = None
        self.timeout = lane.config.read_timeout
        self.loop = protocol.loop
        self.heard = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def start(self, head: bytes) -> None:
        self.heard = self.loop.time()
        self.timer = self.loop.call_later(self.timeout, self._check_silence)
        self.link.sink = self.arrived
        self.answer = self.link.start(head)

    def arrived(self) -> None:
        """Flower sent something, or its connection ended or failed."""
        link, answer = self.link, self.answer
        assert answer is not None
        try:
            if link.error is not None:  # set too when Flower left before the answer's end
                self._fail(link.error)
                return
            self.heard = self.loop.time()
            if not answer.head_done:
                return
            writer = self.writer
            writer.start(answer.status, self.lane.rewriter.response(tuple(answer.headers)))
            if answer.complete:
                writer.body(link.take(answer), True)
                self._let_go(reusable=answer.keep_alive)
                _finish(self.protocol, self.cycle)
                return
            self._continue_in_task(answer)
        except Exception:
            logger.exception("the proxy failed to answer a GET")
            self._let_go(reusable=False)
            self._answer(*_INTERNAL_ERROR)

    def abort(self) -> None:
        """The client left: Flower's connection is closed, its slot freed."""
        if self.answer is not None:
            self._let_go(reusable=False)

    def _continue_in_task(self, answer: AnswerReader) -> None:
        self._detach()
        rest = FlowerAnswer(self.direct, self.link, answer, self.timeout)
        self.lane.in_task(self.protocol, self.cycle, self.writer, self._rest(rest))

    async def _rest(self, rest: FlowerAnswer) -> None:
        try:
            await self.lane.stream(self.writer, rest)
        finally:
            self.lane.upstream.release_slot()

    def _check_silence(self) -> None:
        self.timer = None
        if self.answer is None:
            return
        quiet = self.loop.time() - self.heard
        if quiet < self.timeout:
            self.timer = self.loop.call_later(self.timeout - quiet, self._check_silence)
            return
        self._fail(aiohttp.ServerTimeoutError("Flower did not answer in time"))

    def _fail(self, error: BaseException) -> None:
        self._let_go(reusable=False)
        if self.cycle.response_started:
            self.protocol.transport.close()  # headers are gone already: cut it short
            return
        self._answer(*failure_answer(error))

    def _answer(self, status: int, body: bytes, extra: Headers | None = None) -> None:
        if not self.cycle.disconnected:
            self.writer.start(status, plain_headers(body, extra))
            self.writer.body(body, True)
        _finish(self.protocol, self.cycle)

    def _let_go(self, *, reusable: bool) -> None:
        """Flower's connection back to the pool (or closed) and the slot freed, once."""
        if self.answer is None:
            return
        self._detach()
        self.direct.put_back(self.link, reusable=reusable)
        self.lane.upstream.release_slot()

    def _detach(self) -> None:
        """No more events for this relay: its timer, the connection's sink and the cycle's
        hold on it go."""
        self.answer = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.link.sink = None
        self.cycle.relay = None
