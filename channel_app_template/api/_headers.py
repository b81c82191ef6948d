"""How headers change on the way to Flower and back.

Hop-by-hop headers stop at the proxy; the ones that say who the client is and which
credentials Flower sees are set by the proxy alone, never taken from the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from channel_app_template.api._asgi import Headers, Scope

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
# Each direction's whole drop list, so a header costs one set lookup on the hot path.
REQUEST_DROPPED = HOP_BY_HOP | REQUEST_OWNED
RESPONSE_DROPPED = HOP_BY_HOP | RESPONSE_OWNED


def header(headers: Headers, name: bytes) -> bytes | None:
    """The first value of ``name`` (lower-case, as ASGI gives it), or ``None``."""
    for key, value in headers:
        if key == name:
            return value
    return None


def has_body(headers: Headers) -> bool:
    length = header(headers, b"content-length")
    return header(headers, b"transfer-encoding") is not None or (
        length is not None and length.strip() != b"0"
    )


def host_only(headers: Headers) -> Headers:
    """The client's headers a poll of our own carries: only the public Host."""
    return [(name, value) for name, value in headers if name == b"host"]


def connection_nominated(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The headers a ``Connection`` header names as hop-by-hop for this message."""
    names: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(token.strip().lower() for token in value.split(b","))
    return frozenset(names)


class HeaderRewriter:
    """Rewrites a client's request headers for Flower, and Flower's answer for the client."""

    def __init__(self, upstream: str, authorization: bytes, trust_forwarded: bool) -> None:
        parts = urlsplit(upstream)
        self._upstream_origin = f"{parts.scheme}://{parts.netloc}".encode()
        self._upstream_host = parts.netloc.encode()
        self._authorization = authorization.decode("latin-1")
        self._trust_forwarded = trust_forwarded

    def request(
        self,
        scope: Scope,
        headers: Headers,
        length: bytes | None,
        chunked: bool,
        aliased: bool = False,
    ) -> list[tuple[str, str]]:
        kept: Headers = []
        host: bytes | None = None
        incoming_for = incoming_proto = None
        nominates = False
        for name, value in headers:
            if name in REQUEST_DROPPED:
                if name == b"host":
                    host = value
                elif name == b"x-forwarded-for":
                    incoming_for = value
                elif name == b"x-forwarded-proto":
                    incoming_proto = value
                elif name == b"connection":
                    nominates = True
                continue
            kept.append((name, value))
        if nominates:  # rare: a Connection header naming further hop-by-hop headers
            nominated = connection_nominated(headers)
            kept = [(name, value) for name, value in kept if name not in nominated]
        accept_encoding = False
        forwarded: list[tuple[str, str]] = []
        for name, value in kept:
            if name == b"accept-encoding":
                accept_encoding = True
            forwarded.append((name.decode("latin-1"), value.decode("latin-1")))

        client = scope.get("client")
        client_ip = client[0] if client else "unknown"
        public_host = (host or self._upstream_host).decode("latin-1")
        chain = client_ip
        proto = scope.get("scheme", "http")
        if self._trust_forwarded:
            if incoming_for:
                chain = f"{incoming_for.decode('latin-1')}, {client_ip}"
            if incoming_proto:
                proto = incoming_proto.decode("latin-1")
        # Flower's CSRF check compares Origin with Host, so Flower must see the public Host.
        forwarded += [
            ("Host", public_host),
            ("Authorization", self._authorization),
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

    def response(self, raw_headers: tuple[tuple[bytes, bytes], ...]) -> Headers:
        result: Headers = []
        nominates = False
        for raw_name, value in raw_headers:
            name = raw_name.lower()
            if name in RESPONSE_DROPPED:
                nominates = nominates or name == b"connection"
                continue
            if name == b"location" and value.startswith(self._upstream_origin):
                value = value[len(self._upstream_origin) :] or b"/"
            result.append((name, value))
        if nominates:  # rare: a Connection header naming further hop-by-hop headers
            nominated = connection_nominated(raw_headers)
            result = [(name, value) for name, value in result if name not in nominated]
        return result
