"""A byte-exact HTTP client for proxy tests: no normalisation, no added headers."""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} repeated: {values}"
        return values[0] if values else None


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    port: int,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | Iterable[bytes] | None = None,
    *,
    chunked: bool = False,
    timeout: float = 30.0,
) -> Reply:
    """Send ``target`` exactly as given (raw path and query) and read the whole reply."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        elif isinstance(body, bytes):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            chunks = [body] if isinstance(body, bytes) else body
            for chunk in chunks:
                if chunked:
                    connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    connection.send(chunk)
            if chunked:
                connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return Reply(response.status, list(response.getheaders()), response.read())
    finally:
        connection.close()
