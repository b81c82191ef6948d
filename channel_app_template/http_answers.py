"""One HTTP/1.1 answer as httptools (llhttp, the parser uvicorn ships with) reads it, for the
two clients that read answers off their own sockets: the transport's direct connections
(``transport/_connections.py``, threads) and the web proxy's connections to Flower
(``api/_connections.py``, asyncio).

The framing rules live here once: an interim (1xx) answer is passed over, an answer with
neither a length nor chunking ends with its connection (and its connection is not kept),
keep-alive is asked when the head is complete (llhttp forgets the framing once the message
is), and a head is at most :data:`MAX_HEAD_BYTES`.
"""

from __future__ import annotations

import httptools

__all__ = ["MAX_HEAD_BYTES", "AnswerReader", "BadAnswer"]

MAX_HEAD_BYTES = 64 * 1024  # status line and headers of one answer
_FRAMING = (b"content-length", b"transfer-encoding")


class BadAnswer(Exception):
    """What the peer sent is not an answer we read: not HTTP/1.1, a switch of protocols
    nobody asked for, or a head over :data:`MAX_HEAD_BYTES`."""


class AnswerReader:
    """The answer to one request, fed as its bytes arrive: the head, then the body in
    :attr:`body` until :meth:`take` collects it."""

    __slots__ = (
        "_parser",
        "body",
        "buffered",
        "complete",
        "head_done",
        "header_size",
        "headers",
        "keep_alive",
        "received",
        "status",
        "until_close",
    )

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.head_done = False
        self.complete = False
        self.until_close = False  # no length and not chunked: the body ends with the connection
        self.keep_alive = False
        self.body: list[bytes] = []
        self.buffered = 0  # bytes in ``body``
        self.header_size = 0  # the head, header by header
        self.received = 0  # bytes fed before the head was complete
        self._parser = httptools.HttpResponseParser(self)

    def feed(self, data: bytes) -> None:
        """Parse ``data``; :class:`BadAnswer` when it cannot be the answer."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as error:
            raise BadAnswer("the peer switched protocols unasked") from error
        except httptools.HttpParserError as error:
            raise BadAnswer(f"the answer is not HTTP/1.1: {error}") from error
        if self.head_done:
            too_big = self.header_size > MAX_HEAD_BYTES
        else:
            self.received += len(data)
            too_big = self.received > MAX_HEAD_BYTES
        if too_big:
            raise BadAnswer(f"the answer's head is over {MAX_HEAD_BYTES} bytes")

    def ended(self) -> bool:
        """The connection ended: whether the answer is complete (one without a length is,
        once its head was)."""
        if self.head_done and self.until_close:
            self.complete = True
        return self.complete

    def take(self) -> bytes:
        """The body bytes arrived since the last call."""
        body = self.body
        data = body[0] if len(body) == 1 else b"".join(body)
        self.body = []
        self.buffered = 0
        return data

    # --- httptools' callbacks --------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_size += len(name) + len(value) + 4
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self.headers = []
            return
        self.status = status
        self.head_done = True
        framed = any(name.lower() in _FRAMING for name, _ in self.headers)
        self.until_close = not framed and status not in (204, 304)
        self.keep_alive = self._parser.should_keep_alive() and not self.until_close

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)
        self.buffered += len(chunk)

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True
