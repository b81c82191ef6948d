"""The transport's direct HTTP/1.1 connections (``transport._connections``) against a scripted
loopback peer: keep-alive and its failures, framing both ways, the head's cap, the pool's
bound, TLS. The deadline and the error rules are covered through ``HttpClient`` in
``test_transport.py`` and ``test_omnitron_client_http.py``, which run on this path too."""

from __future__ import annotations

import contextlib
import resource
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import trustme
from hypothesis import given, settings, strategies as st

from channel_app_template.http_answers import MAX_HEAD_BYTES
from channel_app_template.transport._connections import Connections, handles
from channel_app_template.transport._network import NetworkTransport, tls_context

# (request head and body as received, its number on its connection) -> what to write back;
# None closes the connection instead, and a last part HANG_UP closes it after the answer.
Script = Callable[[bytes, int], list[bytes] | None]
HANG_UP = b"\0hang up"  # never written


def ok(body: bytes = b"{}", extra: bytes = b"") -> list[bytes]:
    return [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%b\r\n" % (len(body), extra), body]


class Peer:
    """A socket server that reads whole requests and answers each as ``script`` says."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = (
            f"{'https' if tls else 'http'}://{'localhost' if tls else '127.0.0.1'}:{self.port}"
        )
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError), contextlib.closing(sock):
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = b""
            number = 0
            while True:
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                number += 1
                self.requests.append(request)
                answer = self.script(request, number)
                if answer is None:
                    return
                for part in answer:
                    if part is not HANG_UP:
                        sock.sendall(part)
                if answer and answer[-1] is HANG_UP:
                    return

    def close(self) -> None:
        self.listener.close()


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body, rest = body + rest[:size], rest[size + 2 :]
            if size == 0:
                return head + b"\r\n\r\n" + body, rest
    length = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


@contextlib.contextmanager
def peer(script: Script, tls: ssl.SSLContext | None = None) -> Iterator[Peer]:
    server = Peer(script, tls)
    try:
        yield server
    finally:
        server.close()


def pool(size: int = 4, context: ssl.SSLContext | None = None) -> Connections:
    return Connections(size, context or tls_context(), keepalive_expiry=5.0)


def get(
    connections: Connections, url: str, *, deadline: float | None = None, **kwargs: object
) -> httpx.Response:
    request = httpx.Request("GET", url, **kwargs)  # type: ignore[arg-type]
    request.extensions["timeout"] = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 0.3}
    response = connections.handle(request, deadline)
    response.read()
    return response


def test_answers_share_one_kept_alive_connection() -> None:
    with peer(lambda request, n: ok(b'{"n":%d}' % n)) as server:
        connections = pool()
        bodies = [get(connections, server.url + "/a").content for _ in range(3)]
        assert bodies == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
        assert server.connections == 1
        connections.close()


def test_a_connection_the_peer_closed_while_idle_is_replaced() -> None:
    with peer(lambda request, n: [*ok(b"1"), HANG_UP]) as server:
        connections = pool()
        assert get(connections, server.url).content == b"1"
        time.sleep(0.05)  # the hang-up reaches the idle connection
        assert get(connections, server.url).content == b"1"
        assert server.connections == 2
        connections.close()


def test_a_body_without_length_is_read_to_the_close_and_not_reused() -> None:
    answer = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"all ", b"of it"]
    with peer(lambda request, n: [*answer, HANG_UP]) as server:
        connections = pool()
        assert get(connections, server.url).content == b"all of it"
        assert get(connections, server.url).content == b"all of it"
        assert server.connections == 2
        connections.close()


def test_an_interim_100_answer_is_passed_over() -> None:
    interim = b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
    with peer(lambda request, n: [interim, *ok(b"done", b"X-Final: 1\r\n")]) as server:
        connections = pool()
        response = get(connections, server.url)
        assert (response.status_code, response.content) == (200, b"done")
        assert "x-interim" not in response.headers
        assert response.headers["x-final"] == "1"
        connections.close()


_FILLER = b"X-Filler: " + b"x" * 1000 + b"\r\n"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        pytest.param(
            [
                b"HTTP/1.1 200 OK\r\n" + _FILLER * (MAX_HEAD_BYTES // len(_FILLER) + 2),
                b"Content-Length: 0\r\n\r\n",
            ],
            "head is over",
            id="a head over the cap",
        ),
        pytest.param(None, "without answering", id="a peer that closes without answering"),
        pytest.param(
            [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", HANG_UP],
            "before the answer's body",
            id="a body cut short",
        ),
    ],
)
def test_a_broken_answer_is_a_protocol_error(answer: list[bytes] | None, problem: str) -> None:
    with peer(lambda request, n: answer) as server:
        connections = pool()
        with pytest.raises(httpx.RemoteProtocolError, match=problem):
            get(connections, server.url)
        connections.close()


def test_a_streamed_request_body_is_sent_chunked() -> None:
    with peer(lambda request, n: ok()) as server:
        connections = pool()
        request = httpx.Request("POST", server.url + "/x", content=iter([b"ab", b"", b"cde"]))
        request.extensions["timeout"] = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 1.0}
        connections.handle(request, None).read()
        received = server.requests[0]
        assert received.startswith(b"POST /x HTTP/1.1\r\n")
        assert b"transfer-encoding: chunked" in received.lower()
        assert received.endswith(b"\r\n\r\nabcde")
        connections.close()


def test_the_pool_bounds_open_connections_and_times_out_a_waiting_request() -> None:
    with peer(lambda request, n: ok(b"x")) as server:
        connections = pool(size=1)
        request = httpx.Request("GET", server.url)
        request.extensions["timeout"] = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 0.2}
        held = connections.handle(request, None)  # its body unread: the one slot stays taken
        started = time.monotonic()
        with pytest.raises(httpx.PoolTimeout):
            get(connections, server.url)
        assert 0.15 < time.monotonic() - started < 2
        held.read()
        held.close()
        assert get(connections, server.url).content == b"x"  # the slot came back
        assert server.connections == 1
        connections.close()


def test_a_passed_deadline_refuses_before_connecting() -> None:
    with peer(lambda request, n: ok()) as server:
        connections = pool()
        with pytest.raises(httpx.TimeoutException):
            get(connections, server.url, deadline=time.monotonic() - 1)
        assert server.connections == 0
        connections.close()


def test_https_through_the_given_context_keeps_its_connection() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with peer(lambda request, n: ok(b"tls %d" % n), tls=server_context) as server:
        connections = pool(context=client_context)
        assert get(connections, server.url).content == b"tls 1"
        assert get(connections, server.url).content == b"tls 2"
        assert server.connections == 1
        connections.close()
        with pytest.raises(httpx.ConnectError) as refused:  # the default CA bundle: refused
            get(pool(), server.url)
        assert isinstance(refused.value.__cause__, ssl.SSLError)


def test_head_and_proxied_requests_stay_on_httpcore() -> None:
    assert handles(httpx.Request("GET", "http://x/"))
    assert not handles(httpx.Request("HEAD", "http://x/"))
    assert not handles(httpx.Request("GET", "ftp://x/"))
    assert NetworkTransport(2, proxy="http://proxy.invalid:3128").direct is None
    assert NetworkTransport(2).direct is not None


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(max_size=5000),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=6),
    chunked=st.booleans(),
)
def test_any_body_split_anywhere_arrives_whole(body: bytes, cuts: list[int], chunked: bool) -> None:
    if chunked:
        pieces = split(body, cuts)
        framed = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
        wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed
    else:
        wire = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    parts = [part for part in split(wire, cuts) if part]
    with peer(lambda request, n: parts) as server:
        connections = pool()
        assert get(connections, server.url).content == body
        assert get(connections, server.url).content == body  # and the connection is reusable
        assert server.connections == 1
        connections.close()


def test_a_connection_past_descriptor_1023_is_still_reused() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the descriptor limit ({hard}) does not reach past 1023")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    filler = [socket.socket() for _ in range(1100)]  # push the next descriptors past 1023
    try:
        with peer(lambda request, n: ok(b"x")) as server:
            connections = pool()
            assert get(connections, server.url).content == b"x"
            assert get(connections, server.url).content == b"x"
            assert server.connections == 1  # select() would have refused it: reconnects
            connections.close()
    finally:
        for sock in filler:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
