"""The proxy's own connections to Flower (``api/_connections.py``) against a scripted asyncio
peer: keep-alive and its failures, framing, the head's cap, timeouts, and reading that
pauses for a slow client. The proxy's rules over them are in ``test_proxy_rules.py``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from channel_app_template.api._connections import HIGH_WATER, FlowerAnswer, FlowerConnections
from channel_app_template.http_answers import MAX_HEAD_BYTES

GET = b"GET /api/workers HTTP/1.1\r\nHost: flower\r\n\r\n"
HANG_UP = b"\0hang up"  # never written: close the connection after the answer

# (request number on its connection) -> the parts of the answer
Script = Callable[[int], list[bytes]]


def ok(body: bytes) -> list[bytes]:
    return [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body]


Test = Callable[[FlowerConnections, list[int]], Awaitable[None]]


async def with_peer(script: Script, test: Test) -> None:
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        number = 0
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                number += 1
                for part in script(number):
                    if part is HANG_UP:
                        writer.close()
                        return
                    writer.write(part)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connections = FlowerConnections("127.0.0.1", port, 4)
    try:
        await test(connections, accepted)
    finally:
        connections.close()
        server.close()


async def body_of(answer: FlowerAnswer) -> bytes:
    try:
        return b"".join([chunk async for chunk, _ in answer.chunks()])
    finally:
        answer.release()


def run(script: Script, test: Test) -> None:
    asyncio.run(with_peer(script, test))


def test_answers_share_one_kept_alive_connection() -> None:
    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        for n in range(1, 4):
            answer = await connections.get(GET, 5, 5)
            assert (answer.status, await body_of(answer)) == (200, b"answer %d" % n)
        assert len(accepted) == 1

    run(lambda n: ok(b"answer %d" % n), test)


def test_a_connection_flower_closed_while_idle_is_replaced() -> None:
    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        for _ in range(2):
            assert await body_of(await connections.get(GET, 5, 5)) == b"x"
            await asyncio.sleep(0.05)  # the hang-up reaches the idle connection
        assert len(accepted) == 2

    run(lambda n: [*ok(b"x"), HANG_UP], test)


def test_a_body_without_length_ends_with_the_connection_and_is_not_reused() -> None:
    answer = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"all ", b"of it", HANG_UP]

    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        assert await body_of(await connections.get(GET, 5, 5)) == b"all of it"
        assert await body_of(await connections.get(GET, 5, 5)) == b"all of it"
        assert len(accepted) == 2

    run(lambda n: answer, test)


def test_an_interim_answer_is_passed_over_and_chunked_bodies_are_unframed() -> None:
    interim = b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Final: 1\r\n\r\n"

    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        answer = await connections.get(GET, 5, 5)
        assert [name for name, _ in answer.raw_headers] == [b"Transfer-Encoding", b"X-Final"]
        assert await body_of(answer) == b"abcde"

    run(lambda n: [interim, chunked, b"2\r\nab\r\n", b"3\r\ncde\r\n0\r\n\r\n"], test)


def test_a_head_over_the_cap_fails_as_a_bad_answer() -> None:
    line = b"X-Filler: " + b"x" * 1000 + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\n" + line * (MAX_HEAD_BYTES // len(line) + 2)

    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        with pytest.raises(aiohttp.ClientPayloadError, match="head is over"):
            await connections.get(GET, 5, 5)

    run(lambda n: [head, b"Content-Length: 0\r\n\r\n"], test)


def test_silence_before_the_head_is_a_server_timeout() -> None:
    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        with pytest.raises(aiohttp.ServerTimeoutError):
            await connections.get(GET, 5, 0.2)

    run(lambda n: [], test)


def test_silence_in_the_middle_of_the_body_is_a_server_timeout() -> None:
    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        answer = await connections.get(GET, 5, 0.2)
        with pytest.raises(aiohttp.ServerTimeoutError):
            await body_of(answer)

    run(lambda n: [b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"], test)


def test_whole_gives_a_complete_answers_body_and_none_for_one_still_arriving() -> None:
    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        complete = await connections.get(GET, 5, 5)
        assert complete.whole() == b"abcdefghi"
        complete.release()
        partial = await connections.get(GET, 5, 0.2)
        assert partial.whole() is None
        partial.close()

    def script(n: int) -> list[bytes]:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
        return [head + b"abcdefghi"] if n == 1 else [head + b"abc"]

    run(script, test)


def test_a_closed_port_is_a_connection_error() -> None:
    async def test() -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        connections = FlowerConnections("127.0.0.1", port, 2)
        with pytest.raises(aiohttp.ClientConnectionError):
            await connections.get(GET, 5, 5)

    asyncio.run(test())


def test_a_slow_reader_pauses_flower_instead_of_buffering_the_answer() -> None:
    size = 8 * 1024 * 1024
    block = b"y" * 65536

    async def test(connections: FlowerConnections, accepted: list[int]) -> None:
        answer = await connections.get(GET, 5, 5)
        most = received = 0
        async for chunk, _ in answer.chunks():
            received += len(chunk)
            most = max(most, len(chunk))
            await asyncio.sleep(0.002)  # a slow client
        answer.release()
        assert received == size
        # paused once past the mark (one read, at most 256 KiB, may overshoot it)
        assert most <= HIGH_WATER + 256 * 1024

    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
    run(lambda n: [head, *([block] * (size // len(block)))], test)


def test_a_get_head_is_written_as_is_and_refused_with_a_line_break_in_a_header() -> None:
    from channel_app_template.api._config import ProxyConfig
    from channel_app_template.api._upstream import Upstream

    config = ProxyConfig(
        upstream="http://127.0.0.1:5555/base",
        gate=None,
        upstream_authorization=b"",  # type: ignore[arg-type]
    )
    upstream = Upstream(config)
    head = upstream.get_head(b"/flower/api/workers", b"refresh=1", [("Host", "h"), ("X-A", "b")])
    assert head == (b"GET /base/flower/api/workers?refresh=1 HTTP/1.1\r\nHost: h\r\nX-A: b\r\n\r\n")
    assert upstream.get_head(b"/flower/", b"", []) == b"GET /base/flower/ HTTP/1.1\r\n\r\n"
    for bad in ("a\r\nX-Evil: 1", "a\nb", "a\rb"):
        assert upstream.get_head(b"/flower/", b"", [("X-A", bad)]) is None
        assert upstream.get_head(b"/flower/", b"", [(f"X-{bad}", "v")]) is None
