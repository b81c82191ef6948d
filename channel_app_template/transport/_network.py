"""The network under :class:`~channel_app_template.transport.HttpClient`: an httpx transport
built on httpcore's public connection pool, with the per-attempt deadline on every socket
operation (:mod:`~channel_app_template.transport._deadline`), the process's one TLS context and
the proxy the environment names.

httpx's own ``HTTPTransport`` takes no network backend, so this transport is ours: it maps an
``httpx.Request`` to an ``httpcore.Request`` and back (the mapping httpx documents for custom
transports), and httpcore's exceptions to httpx's, so callers see one library.
"""

from __future__ import annotations

import functools
import ssl
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from channel_app_template.transport._connections import Connections, handles
from channel_app_template.transport._deadline import ATTEMPT_DEADLINE, DeadlineBackend

__all__ = [
    "DEADLINE",
    "NetworkTransport",
    "env_proxy",
    "tls_context",
]

# The request extension holding the attempt's deadline (a ``time.monotonic`` value).
DEADLINE = "deadline"

KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept for the next request

# httpcore's exceptions and the httpx ones callers catch; the most specific class wins.
_AS_HTTPX: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}
_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpcore.ProtocolError,
)


def _as_httpx(error: Exception) -> httpx.TransportError:
    for kind in type(error).__mro__:
        mapped = _AS_HTTPX.get(kind)
        if mapped is not None:
            return mapped(str(error))
    return httpx.TransportError(str(error))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (certifi's CA bundle, verification on), shared by
    every client: building one loads the whole CA bundle into OpenSSL, and a client per
    flow run that built its own grew the worker by about 0.25 MB a run, for good
    (``bench/bench_hostile_data.py``)."""
    return httpx.create_ssl_context()


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY``, unless ``NO_PROXY`` excludes its host), as ``requests`` chose one."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class _Body(httpx.SyncByteStream):
    """An answer's body as httpcore streams it, each read under the attempt's deadline."""

    def __init__(self, stream: Iterable[bytes], deadline: float | None) -> None:
        self._stream = stream
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._stream)
        while True:
            token = ATTEMPT_DEADLINE.set(self._deadline)
            try:
                chunk = next(chunks, b"")
            except _HTTPCORE_ERRORS as error:
                raise _as_httpx(error) from error
            finally:
                ATTEMPT_DEADLINE.reset(token)
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class NetworkTransport(httpx.BaseTransport):
    """httpx's transport contract on direct HTTP/1.1 connections
    (:class:`~channel_app_template.transport._connections.Connections`) and, for requests
    through a proxy or that those do not take, httpcore's :class:`httpcore.ConnectionPool`.

    A request that carries a ``deadline`` extension has every connect, read and write of its
    attempt (headers and body) end by then, on either path (``pool`` runs on
    :class:`~channel_app_template.transport._deadline.DeadlineBackend`). ``proxy`` is a
    proxy URL (``http``, ``https``; ``socks5`` needs httpcore's ``socks`` extra); its
    credentials go in the URL.
    """

    def __init__(self, pool_size: int, proxy: str | None = None) -> None:
        via = None
        if proxy:
            parsed = httpx.Proxy(proxy)
            via = httpcore.Proxy(str(parsed.url), auth=parsed.raw_auth)
        self.ssl_context = tls_context()
        self.pool = httpcore.ConnectionPool(
            ssl_context=self.ssl_context,
            proxy=via,
            max_connections=pool_size,
            max_keepalive_connections=pool_size,
            keepalive_expiry=KEEPALIVE_EXPIRY,
            network_backend=DeadlineBackend(),
        )
        self.direct = None if via else Connections(pool_size, self.ssl_context, KEEPALIVE_EXPIRY)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = request.extensions.get(DEADLINE)
        if self.direct is not None and handles(request):
            return self.direct.handle(request, deadline)
        url = request.url
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        token = ATTEMPT_DEADLINE.set(deadline)
        try:
            answer = self.pool.handle_request(sent)
        except _HTTPCORE_ERRORS as error:
            raise _as_httpx(error) from error
        finally:
            ATTEMPT_DEADLINE.reset(token)
        assert isinstance(answer.stream, Iterable)  # a sync pool streams synchronously
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, deadline),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        if self.direct is not None:
            self.direct.close()
        self.pool.close()
