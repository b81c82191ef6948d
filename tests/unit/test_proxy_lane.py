"""The proxy's GET lane (``api/_lane.py``): uvicorn with the Procfile's HTTP protocol, in
this process, in front of a scripted asyncio Flower. Which requests the lane takes, that
its answers are framed as the ASGI way frames them, pipelining, refused logins counted
once, a client that leaves, and Flower failing. The rules themselves run through the real
web process (the Procfile's line) in ``test_proxy_rules.py``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from channel_app_template.api import server as web_server
from channel_app_template.api._lane import REMEMBERED_HEADS
from channel_app_template.api.app import WebApp, create_app
from channel_app_template.settings import Settings
from tests.support.inprocess_web import serving

ADMIN = "admin:admin-secret-1"
HANG_UP = b"\0hang up"  # never written: close Flower's side
SILENT = b"\0silent"  # never written: say nothing, keep the connection
SLOW_PART = b"\0slow"  # never written: a pause of 0.1 s


def authorization(credential: str = ADMIN) -> bytes:
    return b"Basic " + base64.b64encode(credential.encode())


def get(path: bytes, *extra: bytes, method: bytes = b"GET", version: bytes = b"1.1") -> bytes:
    lines = [method + b" " + path + b" HTTP/" + version, b"Host: public.example"]
    lines += [b"Authorization: " + authorization(), *extra]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def answer(body: bytes, *extra: bytes) -> list[bytes]:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", b"Server: TornadoServer/6"]
    head += [b"Content-Length: %d" % len(body), *extra]
    return [b"\r\n".join(head) + b"\r\n\r\n", body]


def echo_path(head: bytes) -> list[bytes]:
    """Flower answering with the request line it received."""
    return answer(head.split(b"\r\n", 1)[0])


@dataclass
class Flower:
    """A scripted Flower: ``script(request head)`` is what it writes back."""

    script: Callable[[bytes], list[bytes]]
    heads: list[bytes] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                self.heads.append(head)
                parts = self.script(head)
                if head.startswith(b"HEAD "):
                    parts = parts[:1]  # the head only
                for part in parts:
                    if part is HANG_UP:
                        writer.close()
                        return
                    if part is SILENT:
                        await reader.read()  # until the proxy gives up on us
                        raise ConnectionResetError
                    if part is SLOW_PART:
                        await writer.drain()
                        await asyncio.sleep(0.1)
                        continue
                    writer.write(part)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed.set()
            writer.close()
        except asyncio.CancelledError:  # the test is over
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@dataclass
class Web:
    port: int
    app: WebApp
    flower: Flower
    asgi_paths: list[str]  # requests that reached the ASGI handler (not the lane)
    lane_tasks: list[int]  # tasks the lane started (none for an answer that came whole)

    async def warm(self) -> None:
        """Leave a kept-alive connection to Flower idle, so the next GET takes the lane's
        event-driven way (a fresh connection is made in a task)."""
        assert (await self.ask(get(b"/flower/api/warm"))).status == 200
        self.lane_tasks.clear()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def ask(self, request: bytes) -> Reply:
        reader, writer = await self.connect()
        try:
            writer.write(request)
            return await read_reply(reader, to_head=request.startswith(b"HEAD "))
        finally:
            writer.close()


@dataclass
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]


async def read_reply(reader: asyncio.StreamReader, *, to_head: bool = False) -> Reply:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *lines = head[:-4].split(b"\r\n")
    headers = []
    for line in lines:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    reply = Reply(int(status_line.split()[1]), headers, b"")
    if reply.header(b"transfer-encoding") == [b"chunked"]:
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            reply.body += chunk[:-2]
    elif reply.header(b"content-length") and not to_head:
        reply.body = await reader.readexactly(int(reply.header(b"content-length")[0]))
    return reply


@contextlib.asynccontextmanager
async def web(
    script: Callable[[bytes], list[bytes]] = echo_path, access_log: bool = False, **settings: Any
) -> AsyncIterator[Web]:
    flower = Flower(script)
    upstream = await asyncio.start_server(flower.handle, "127.0.0.1", 0)
    flower_port = upstream.sockets[0].getsockname()[1]
    config = Settings.model_validate(
        {"flower_url": f"http://127.0.0.1:{flower_port}", "flower_basic_auth": ADMIN, **settings}
    )
    web_server.configure(config)
    app = create_app(config)
    asgi_paths: list[str] = []
    proxy = app.proxy

    async def spied(scope: Any, receive: Any, send: Any) -> None:
        asgi_paths.append(f"{scope['method']} {scope['path']}")
        await proxy(scope, receive, send)

    app.proxy = spied  # type: ignore[assignment]
    lane_tasks: list[int] = []
    in_task = app.lane.in_task

    def counted(*args: Any) -> Any:
        lane_tasks.append(1)
        return in_task(*args)

    app.lane.in_task = counted  # type: ignore[method-assign]
    await proxy.start()
    try:
        async with serving(app, access_log=access_log) as port:
            yield Web(port, app, flower, asgi_paths, lane_tasks)
    finally:
        await proxy.close()
        upstream.close()


async def test_a_plain_get_is_served_by_the_lane_with_flowers_answer_rewritten() -> None:
    async with web() as site:
        reply = await site.ask(get(b"/flower/api/workers?status=1", b"X-Forwarded-For: 6.6.6.6"))
    assert site.asgi_paths == []
    assert reply.status == 200
    assert reply.body == b"GET /flower/api/workers?status=1 HTTP/1.1"
    assert reply.header(b"server") == [b"uvicorn"]  # uvicorn's own, not Flower's (P23)
    assert len(reply.header(b"date")) == 1
    assert reply.header(b"content-type") == [b"application/json"]
    head = site.flower.heads[0]
    assert b"\r\nAuthorization: " + authorization() + b"\r\n" in head
    assert b"\r\nHost: public.example\r\n" in head
    assert b"\r\nX-Forwarded-For: 127.0.0.1\r\n" in head  # the client's own is not trusted
    assert b"\r\nX-Forwarded-Prefix: /flower\r\n" in head


async def test_over_a_kept_alive_connection_a_whole_answer_needs_no_task() -> None:
    async with web() as site:
        await site.warm()
        replies = [await site.ask(get(b"/flower/api/workers?n=%d" % n)) for n in range(3)]
    assert [reply.body for reply in replies] == [
        b"GET /flower/api/workers?n=%d HTTP/1.1" % n for n in range(3)
    ]
    assert site.lane_tasks == []
    assert site.asgi_paths == []


async def test_a_remembered_head_is_used_only_for_the_very_same_request() -> None:
    async with web() as site:
        for accept in (b"text/a", b"text/b", b"text/a"):
            assert (await site.ask(get(b"/flower/api/workers", b"Accept: " + accept))).status == 200
        reader, writer = await site.connect()
        for n in range(2 * REMEMBERED_HEADS):  # each a new request: the memory stays bounded
            writer.write(get(b"/flower/api/task/info/%d" % n))
            assert (await read_reply(reader)).body.startswith(b"GET /flower/api/task/info/")
        writer.close()
    accepts = [line for head in site.flower.heads[:3] for line in head.split(b"\r\n")]
    assert [a for a in accepts if a.lower().startswith(b"accept: ")] == [
        b"accept: text/a",
        b"accept: text/b",
        b"accept: text/a",
    ]
    assert len(site.app.lane._heads) <= REMEMBERED_HEADS


async def test_the_api_alias_reaches_flowers_prefixed_path_on_the_lane() -> None:
    async with web() as site:
        reply = await site.ask(get(b"/api/task/info/abc"))
    assert site.asgi_paths == []
    assert reply.body == b"GET /flower/api/task/info/abc HTTP/1.1"
    assert b"X-Forwarded-Prefix" not in site.flower.heads[0]


@pytest.mark.parametrize(
    "request_bytes",
    [
        get(b"/flower/api/workers", method=b"HEAD"),
        get(b"/flower/api/workers", b"Content-Length: 0", method=b"POST"),
        get(b"/flower/api/workers", b"Content-Length: 2") + b"{}",
        get(b"/flower/api/workers", b"Expect: 100-continue"),
        get(b"/flower/api/workers", b"Connection: close"),
        get(b"/flower/api/workers", version=b"1.0"),
        get(b"/flower/api/workers?refresh=1"),  # a wait: counted per user
        get(b"/flower/api/task/result/abc?timeout=1"),  # a wait taken over from Flower
        get(b"/flower/../etc/passwd"),  # refused by the path rules, the ASGI way
        get(b"/flower"),  # redirected
    ],
    ids=[
        "HEAD",
        "POST",
        "GET with a body",
        "Expect",
        "Connection: close",
        "HTTP/1.0",
        "workers refresh",
        "result wait",
        "dot segment",
        "/flower",
    ],
)
async def test_requests_the_lane_does_not_take_go_the_asgi_way(request_bytes: bytes) -> None:
    async with web() as site:
        reply = await site.ask(request_bytes)
    assert len(site.asgi_paths) == 1, site.asgi_paths
    assert reply.status in {200, 307, 400}


async def test_with_access_lines_on_every_request_goes_the_asgi_way_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with web(access_log=True) as site:
        reply = await site.ask(get(b"/flower/api/workers"))
    assert reply.status == 200
    assert site.asgi_paths == ["GET /flower/api/workers"]
    assert any("GET /flower/api/workers" in r.getMessage() for r in caplog.records)


async def test_pipelined_requests_are_answered_in_order_whichever_way_each_goes() -> None:
    async with web() as site:
        reader, writer = await site.connect()
        writer.write(
            get(b"/flower/api/workers?n=1")
            + get(b"/flower/api/tasks", b"Content-Length: 0", method=b"POST")
            + get(b"/flower/api/workers?n=3")
        )
        replies = [await read_reply(reader) for _ in range(3)]
        writer.close()
    assert [reply.body for reply in replies] == [
        b"GET /flower/api/workers?n=1 HTTP/1.1",
        b"POST /flower/api/tasks HTTP/1.1",
        b"GET /flower/api/workers?n=3 HTTP/1.1",
    ]
    # Only the first is the lane's: the others arrived while its answer was unfinished.
    assert site.asgi_paths == ["POST /flower/api/tasks", "GET /flower/api/workers"]


@pytest.mark.parametrize("method", [b"GET", b"HEAD"], ids=["lane", "asgi"])
async def test_a_refused_login_is_counted_once_whichever_way_it_goes(method: bytes) -> None:
    wrong = b"Authorization: " + authorization("admin:wrong")
    statuses = []
    async with web(login_failures_per_address=3) as site:
        for _ in range(4):
            request = get(b"/flower/api/workers", method=method).replace(
                b"Authorization: " + authorization(), wrong
            )
            statuses.append((await site.ask(request)).status)
    assert statuses == [401, 401, 401, 429]
    assert site.flower.heads == []
    assert len(site.asgi_paths) == (4 if method == b"HEAD" else 0)


WAYS = pytest.mark.parametrize("warm", [False, True], ids=["fresh", "kept-alive"])


def warm_or(script: Callable[[bytes], list[bytes]]) -> Callable[[bytes], list[bytes]]:
    """``script``, except that the warm-up GET is answered."""
    return lambda head: echo_path(head) if b"/warm " in head else script(head)


@WAYS
async def test_a_client_that_leaves_frees_flowers_connection_at_once(warm: bool) -> None:
    def script(head: bytes) -> list[bytes]:
        return [SILENT] if b"slow" in head else echo_path(head)

    async with web(script, proxy_max_connections=1) as site:
        if warm:
            await site.warm()
        _, writer = await site.connect()
        writer.write(get(b"/flower/api/slow"))
        await writer.drain()
        while not any(b"slow" in head for head in site.flower.heads):
            await asyncio.sleep(0.01)
        writer.close()
        await asyncio.wait_for(site.flower.closed.wait(), 0.2)  # the ASGI way waits 0.25 s
        reply = await site.ask(get(b"/flower/api/workers"))  # the one slot is free again
    assert reply.status == 200


@WAYS
async def test_flower_silent_past_the_read_timeout_is_504_and_gone_is_502(warm: bool) -> None:
    async with web(warm_or(lambda head: [SILENT]), proxy_read_timeout=0.2) as site:
        if warm:
            await site.warm()
        silent = await site.ask(get(b"/flower/api/workers"))
        after = await site.ask(get(b"/flower/api/warm"))  # the slot and pool are sound
    async with web(warm_or(lambda head: [HANG_UP])) as site:
        if warm:
            await site.warm()
        gone = await site.ask(get(b"/flower/api/workers"))
    assert (silent.status, silent.body) == (504, b"Flower did not answer in time.\n")
    assert (gone.status, gone.body) == (502, b"Flower is unreachable.\n")
    assert after.status == 200
    assert site.asgi_paths == []
    assert site.lane_tasks == ([] if warm else [1])


@WAYS
async def test_flower_silent_but_still_talking_is_not_a_timeout(warm: bool) -> None:
    def script(head: bytes) -> list[bytes]:
        head = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 5\r\n", b"X-Slow: 1\r\n", b"\r\n"]
        pieces = [*head, b"xx", b"xxx"]  # the head alone takes 0.3 s
        return [part for piece in pieces for part in (piece, SLOW_PART)]

    async with web(warm_or(script), proxy_read_timeout=0.25) as site:
        if warm:
            await site.warm()
        reply = await site.ask(get(b"/flower/api/workers"))  # 0.6 s in all, 0.1 s pauses
    assert (reply.status, reply.body) == (200, b"xxxxx")


@WAYS
async def test_an_answer_cut_short_closes_the_clients_connection(warm: bool) -> None:
    def script(head: bytes) -> list[bytes]:
        return [answer(b"0123456789")[0], b"01234", HANG_UP]

    async with web(warm_or(script)) as site:
        if warm:
            await site.warm()
        reader, writer = await site.connect()
        writer.write(get(b"/flower/api/workers"))
        received = await asyncio.wait_for(reader.read(), 5)  # until the proxy closes
        writer.close()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b"\r\n\r\n01234")


@WAYS
async def test_a_chunked_answer_stays_chunked_and_a_204_has_no_body(warm: bool) -> None:
    def script(head: bytes) -> list[bytes]:
        if b"empty" in head:
            return [b"HTTP/1.1 204 No Content\r\n\r\n"]
        chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return [chunked, b"5\r\nhello\r\n", SLOW_PART, b"6\r\n world\r\n0\r\n\r\n"]

    async with web(warm_or(script)) as site:
        if warm:
            await site.warm()
        streamed = await site.ask(get(b"/flower/api/stream"))
        empty = await site.ask(get(b"/flower/api/empty"))
    assert (streamed.status, streamed.body) == (200, b"hello world")
    assert streamed.header(b"transfer-encoding") == [b"chunked"]
    assert (empty.status, empty.body, empty.header(b"content-length")) == (204, b"", [])
    assert empty.header(b"transfer-encoding") == []
    assert site.asgi_paths == []


def test_the_writer_ends_the_connection_after_an_answer_that_says_connection_close() -> None:
    from types import SimpleNamespace

    from channel_app_template.api._lane import LaneCycle, _Writer

    written: list[bytes] = []
    transport = SimpleNamespace(write=written.append, is_closing=lambda: False)
    protocol = SimpleNamespace(
        transport=transport, server_state=SimpleNamespace(default_headers=[])
    )
    kept, closing = LaneCycle(), LaneCycle()
    for cycle, extra in ((kept, []), (closing, [(b"connection", b"close")])):
        writer = _Writer(protocol, cycle)  # type: ignore[arg-type]
        writer.start(500, [(b"content-length", b"2"), *extra])
        writer.body(b"no", True)
    assert (kept.keep_alive, closing.keep_alive) == (True, False)
    assert (
        written[1]
        == b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno"
    )
