"""A scripted Omnitron stand-in on loopback, shared by the HTTP clients' unit tests.

It answers each request with whatever the test's ``responder`` says: a JSON reply, a dropped
connection (after reading the request), a hang (to provoke a read timeout) or raw bytes
written slowly (a trickled or a huge answer). Every request is recorded with its headers,
query and body so a test can count exactly what went on the wire. Any peer can be played
by it (the marketplace tests use it too); only ``/api/v1/auth/login/`` is Omnitron's.
No tests live here.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.transport import RetryPolicy, Timeouts

PASSWORD = "s3cret-Pa55word!"
USERNAME = "channel-bot"
LOGIN = "/api/v1/auth/login/"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    client_port: int


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Drop:
    """Close the connection without answering (the request was fully received)."""


@dataclass
class Hang:
    seconds: float


@dataclass
class Raw:
    """Write ``chunks`` as they are (status line and headers included), waiting ``pause``
    seconds before each one; the connection is closed afterwards."""

    chunks: Iterable[bytes]
    pause: float = 0.0


def trickled_body(size: int, pause: float) -> Raw:
    """A 200 whose ``size``-byte JSON body arrives one byte per ``pause`` seconds."""
    body = b'{"x":"' + b"y" * max(0, size - 8) + b'"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    return Raw([head, *(body[i : i + 1] for i in range(len(body)))], pause)


def trickled_headers(count: int, pause: float) -> Raw:
    """A status line, then ``count`` header lines one per ``pause`` seconds (never a body)."""
    lines = (b"X-Slow-%d: 1\r\n" % n for n in range(count))
    return Raw([b"HTTP/1.1 200 OK\r\n", *lines], pause)


def huge_body(size: int, *, declared: bool) -> Raw:
    """A 200 with ``size`` bytes of body, its length declared or not (read to the close)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n\r\n" % size if declared else b"Connection: close\r\n\r\n"
    block = b" " * 65536

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)

    return Raw(chunks())


Action = Reply | Drop | Hang | Raw
Responder = Callable[[Seen], Action]


class FakeOmnitron:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.tokens = iter(f"{n:040x}" for n in range(1, 1000))
        self.issued: list[str] = []
        self.responder: Responder = lambda seen: Reply(200, {})
        self.stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    json.loads(raw) if raw else None,
                    self.client_address[1],
                )
                fake.seen.append(seen)
                action = fake.respond(seen)
                if isinstance(action, Drop):
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, Raw):
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        for chunk in action.chunks:
                            if action.pause and fake.stop.wait(action.pause):
                                break
                            self.wfile.write(chunk)
                            self.wfile.flush()
                    return
                if isinstance(action, Hang):
                    fake.stop.wait(action.seconds)
                    action = Reply(200, {})
                data = b"" if action.body is None else json.dumps(action.body).encode()
                # the client may have given up already (timeout): a broken pipe is expected
                with contextlib.suppress(ConnectionError):
                    self.send_response(action.status)
                    for name, value in action.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def respond(self, seen: Seen) -> Action:
        if seen.path == LOGIN and seen.method == "POST":
            body = seen.body or {}
            if body.get("username") != USERNAME or body.get("password") != PASSWORD:
                return Reply(400, {"non_field_errors": ["Unable to log in."]})
            token = next(self.tokens)
            self.issued.append(token)
            return Reply(200, {"key": token})
        return self.responder(seen)

    def calls(self, path: str | None = None, method: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if (path is None or s.path == path) and (method is None or s.method == method)
        ]

    @property
    def logins(self) -> int:
        return len(self.calls(LOGIN))

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("Authorization") in {f"Token {t}" for t in self.issued}


@contextlib.contextmanager
def running_fake() -> Iterator[FakeOmnitron]:
    server = FakeOmnitron()
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.server.shutdown()
        server.server.server_close()


class Sleeps(list[float]):
    """A ``sleep`` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    url: str,
    *,
    sleeps: Sleeps | None = None,
    cache: MemoryTokenCache | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    **options: Any,
) -> OmnitronClient:
    options.setdefault("sleep", sleeps if sleeps is not None else Sleeps())
    return OmnitronClient(
        url,
        USERNAME,
        PASSWORD,
        channel_id=7,
        catalog_id=3,
        token_cache=cache or MemoryTokenCache(),
        timeouts=timeouts or Timeouts(connect=1.0, read=2.0),
        retry=retry or RetryPolicy(max_attempts=4, max_elapsed=30),
        **options,
    )


def page(results: list[Any], next_url: str | None = None, count: int | None = None) -> Reply:
    return Reply(
        200,
        {
            "count": len(results) if count is None else count,
            "next": next_url,
            "previous": None,
            "results": results,
        },
    )
