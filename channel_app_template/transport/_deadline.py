"""The network under the client: httpcore's socket backend with the per-attempt deadline
applied to every socket read and write (httpcore's network-backend interface is where it
can be enforced), the process's one TLS context, and the proxy the environment names.
"""

from __future__ import annotations

import contextvars
import functools
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = [
    "ATTEMPT_DEADLINE",
    "DeadlineBackend",
    "build_transport",
    "env_proxy",
    "tls_context",
]

# The deadline (time.monotonic) of the attempt running in this thread/context, if any.
ATTEMPT_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "channel_app_template_http_deadline", default=None
)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt's deadline."""
    deadline = ATTEMPT_DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync socket backend with the deadline applied to every socket operation.

    Per-read timeouts alone let a peer hold a request forever by sending a byte just before
    each one expires; shortening each timeout to what is left of the deadline cannot be
    outrun that way, in the headers or in the body.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY``, unless ``NO_PROXY`` excludes its host), as ``requests`` chose one."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (certifi's CA bundle, verification on), shared by
    every client: building one loads the whole CA bundle into OpenSSL, and a client per
    flow run that built its own grew the worker by about 0.25 MB a run, for good
    (``bench/bench_hostile_data.py``)."""
    return httpx.create_ssl_context()


def build_transport(pool_size: int, proxy: str | None = None) -> httpx.HTTPTransport:
    """httpx's transport on a connection pool that uses :class:`DeadlineBackend`.

    httpx has no public argument for httpcore's network backend, so the pool it builds is
    replaced by one built the same way (its ``_pool`` is what ``handle_request`` uses);
    ``tests/unit/test_http_transport.py`` fails if a new httpx stops honouring that.
    """
    transport = httpx.HTTPTransport(retries=0, verify=tls_context())
    via = None
    if proxy:
        parsed = httpx.Proxy(proxy)
        via = httpcore.Proxy(str(parsed.url), auth=parsed.raw_auth)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=tls_context(),
        proxy=via,
        max_connections=pool_size,
        max_keepalive_connections=pool_size,
        keepalive_expiry=5.0,
        network_backend=DeadlineBackend(),
    )
    return transport
