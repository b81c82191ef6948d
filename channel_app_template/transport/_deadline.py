"""The per-attempt deadline at the socket: :func:`left` shortens a timeout to what is left
of it, and httpcore's sync network backend here applies it to every connect, read and write
(httpcore's network-backend interface is where that can be enforced). The transport that
uses it is :class:`~channel_app_template.transport._network.NetworkTransport`; its direct
connections (``_connections``) call :func:`left` themselves.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = [
    "ATTEMPT_DEADLINE",
    "DeadlineBackend",
    "DeadlineStream",
    "left",
]

# The deadline (time.monotonic) of the socket operations running in this thread/context, if
# any: set by the transport around each call into httpcore, read by the backend below.
ATTEMPT_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "channel_app_template_http_deadline", default=None
)


def left(timeout: float | None, deadline: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left until ``deadline`` (``time.monotonic``);
    ``error`` once nothing is."""
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the request's deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt's deadline."""
    return left(timeout, ATTEMPT_DEADLINE.get(), error)


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
