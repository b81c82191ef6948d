"""Direct HTTP/1.1 connections for the hot path: kept-alive sockets whose answers httptools
parses (llhttp, the C parser uvicorn already ships with; the framing rules are
:mod:`channel_app_template.http_answers`), every connect, read and write under what is left
of the attempt's deadline.

Why not httpcore here (issue 13, ``bench/bench_http_library.py``): the catalog engine and the
order flow make one request per product or a few per order, and httpcore's pool, h11 state
machine and the network-backend wrapping cost 470-640 us of client CPU per 2 KB GET on this
project's 2-core machine, against 110-180 us for the same exchange over a socket parsed by
httptools. httpcore stays underneath :class:`~channel_app_template.transport._network.
NetworkTransport` for what this module does not do: requests through a proxy, ``HEAD``, and
schemes other than ``http``/``https``.

Bounds: at most ``size`` connections (waiting ``pool`` seconds for one), idle ones kept
``keepalive_expiry`` seconds and dropped once the peer closed them or sent anything unasked,
an answer's head at most ``http_answers.MAX_HEAD_BYTES``. The body's cap is the sender's.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from channel_app_template.http_answers import AnswerReader, BadAnswer
from channel_app_template.transport._deadline import left

__all__ = [
    "Connections",
    "handles",
]

READ_SIZE = 64 * 1024
_DIRECT_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PORTS = {b"http": 80, b"https": 443}


def handles(request: httpx.Request) -> bool:
    """Whether :class:`Connections` takes ``request`` (the rest goes to httpcore)."""
    return request.method in _DIRECT_METHODS and request.url.raw_scheme in _PORTS


class _Connection:
    """One socket to ``origin`` (scheme, host, port) and when it was last put back idle."""

    __slots__ = ("idle_since", "origin", "sock")

    def __init__(self, sock: socket.socket, origin: tuple[bytes, bytes, int]) -> None:
        self.sock = sock
        self.origin = origin
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Idle not too long, and the peer neither closed it nor sent anything unasked."""
        if now - self.idle_since > expiry:
            return False
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False  # TLS bytes the peer sent unasked, already read off the socket
        try:
            poller = select.poll()  # not select(): it refuses descriptors past 1023
            poller.register(self.sock, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Body(httpx.SyncByteStream):
    """The rest of an answer, read under the deadline; the connection goes back to the pool
    once the answer was read to its end (and the peer keeps it alive), else it is closed."""

    def __init__(
        self,
        owner: Connections,
        connection: _Connection,
        reader: AnswerReader,
        read_timeout: float | None,
        deadline: float | None,
    ) -> None:
        self._owner = owner
        self._connection: _Connection | None = connection
        self._reader = reader
        self._read_timeout = read_timeout
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        reader = self._reader
        connection = self._connection
        if connection is None:
            return
        while True:
            if reader.body:
                yield reader.take()
            if reader.complete:
                break
            data = _receive(connection.sock, self._read_timeout, self._deadline)
            if not data:
                self._release(reusable=False)
                if reader.ended():  # an answer without length: its connection ended it
                    return
                raise httpx.RemoteProtocolError(
                    "the peer closed the connection before the answer's body was complete"
                )
            _feed(reader, data)
        self._release(reusable=reader.keep_alive)

    def close(self) -> None:
        self._release(reusable=False)

    def _release(self, *, reusable: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._owner.release(connection, reusable=reusable)


def _receive(sock: socket.socket, timeout: float | None, deadline: float | None) -> bytes:
    sock.settimeout(left(timeout, deadline, httpx.ReadTimeout))
    try:
        return sock.recv(READ_SIZE)
    except TimeoutError as error:
        raise httpx.ReadTimeout("timed out reading the answer") from error
    except OSError as error:
        raise httpx.ReadError(f"reading the answer failed: {error}") from error


def _feed(reader: AnswerReader, data: bytes) -> None:
    try:
        reader.feed(data)
    except BadAnswer as error:
        raise httpx.RemoteProtocolError(str(error)) from error


class Connections:
    """A pool of direct HTTP/1.1 connections to any origin, at most ``size`` at a time.

    :meth:`handle` sends one :func:`handles`-able request and returns once its answer's head
    has arrived; the body streams from the socket as the caller reads it. ``deadline`` is the
    attempt's (a ``time.monotonic`` value, or ``None``); timeouts come from the request's
    ``timeout`` extension, as httpx sets it.
    """

    def __init__(self, size: int, ssl_context: ssl.SSLContext, keepalive_expiry: float) -> None:
        self.ssl_context = ssl_context
        self.keepalive_expiry = keepalive_expiry
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._closed = False

    def handle(self, request: httpx.Request, deadline: float | None) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        pool_timeout = timeouts.get("pool")
        wait = left(pool_timeout, deadline, httpx.PoolTimeout)
        if not self._slots.acquire(timeout=wait if wait is not None else -1):
            raise httpx.PoolTimeout("no free connection within the pool timeout")
        try:
            connection, reused = self._connection_for(request.url, timeouts, deadline)
        except BaseException:
            self._slots.release()
            raise
        try:
            _send(connection.sock, request, timeouts.get("write"), deadline)
            reader = self._read_head(connection, timeouts.get("read"), deadline, reused)
        except BaseException:
            self.release(connection, reusable=False)
            raise
        return httpx.Response(
            reader.status,
            headers=reader.headers,
            stream=_Body(self, connection, reader, timeouts.get("read"), deadline),
            extensions={"http_version": b"HTTP/1.1"},
        )

    def release(self, connection: _Connection, *, reusable: bool) -> None:
        """Put ``connection`` back idle (or close it) and free its slot."""
        try:
            if reusable and not self._closed:
                connection.idle_since = time.monotonic()
                with self._lock:
                    idle = self._idle.setdefault(connection.origin, [])
                    if len(idle) < self.size:
                        idle.append(connection)
                        return
            connection.close()
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for group in self._idle.values() for c in group]
            self._idle.clear()
        for connection in idle:
            connection.close()

    # ------------------------------------------------------------------ connecting
    def _connection_for(
        self, url: httpx.URL, timeouts: dict[str, float | None], deadline: float | None
    ) -> tuple[_Connection, bool]:
        key = (url.raw_scheme, url.raw_host, url.port or _PORTS[url.raw_scheme])
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                connection = idle.pop()
                if connection.usable(now, self.keepalive_expiry):
                    return connection, True
                connection.close()
        return self._connect(key, timeouts.get("connect"), deadline), False

    def _connect(
        self, key: tuple[bytes, bytes, int], timeout: float | None, deadline: float | None
    ) -> _Connection:
        scheme, raw_host, port = key
        host = raw_host.decode("ascii")
        try:
            sock = socket.create_connection(
                (host, port), timeout=left(timeout, deadline, httpx.ConnectTimeout)
            )
        except TimeoutError as error:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from error
        except OSError as error:
            raise httpx.ConnectError(f"connecting to {host}:{port} failed: {error}") from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == b"https":
                sock.settimeout(left(timeout, deadline, httpx.ConnectTimeout))
                sock = self.ssl_context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as error:
            sock.close()
            raise httpx.ConnectTimeout(f"the TLS handshake with {host} timed out") from error
        except OSError as error:  # ssl.SSLError included: tls_failure() finds it as the cause
            sock.close()
            raise httpx.ConnectError(f"the TLS handshake with {host} failed: {error}") from error
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, key)

    # ------------------------------------------------------------------ the answer's head
    def _read_head(
        self,
        connection: _Connection,
        timeout: float | None,
        deadline: float | None,
        reused: bool,
    ) -> AnswerReader:
        reader = AnswerReader()
        while not reader.head_done:
            data = _receive(connection.sock, timeout, deadline)
            if not data:
                what = "a kept-alive connection" if reused else "the connection"
                raise httpx.RemoteProtocolError(
                    f"the peer closed {what} without answering"
                    if reader.received == 0
                    else "the peer closed the connection in the middle of the answer's head"
                )
            _feed(reader, data)
        return reader


def _send(
    sock: socket.socket, request: httpx.Request, timeout: float | None, deadline: float | None
) -> None:
    """The request line, headers and body; one write when the body is in memory."""
    head = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        head += (name, b": ", value, b"\r\n")
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
    head.append(b"\r\n")
    data = b"".join(head)
    stream: Any = request.stream
    if isinstance(stream, httpx.ByteStream) and not chunked:
        _write(sock, data + b"".join(stream), timeout, deadline)
        return
    _write(sock, data, timeout, deadline)
    for chunk in stream:
        if chunk:
            _write(
                sock, b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk, timeout, deadline
            )
    if chunked:
        _write(sock, b"0\r\n\r\n", timeout, deadline)


def _write(sock: socket.socket, data: bytes, timeout: float | None, deadline: float | None) -> None:
    sock.settimeout(left(timeout, deadline, httpx.WriteTimeout))
    try:
        sock.sendall(data)
    except TimeoutError as error:
        raise httpx.WriteTimeout("timed out sending the request") from error
    except OSError as error:
        raise httpx.WriteError(f"sending the request failed: {error}") from error
