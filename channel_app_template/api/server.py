"""uvicorn's HTTP protocol with the time and size bounds uvicorn itself lacks.

uvicorn closes an idle keep-alive connection, but it never times out a client that is
slow to send its request: a connection that sends half a header (or nothing at all, or
a body one byte a minute) is kept for ever, and a few thousand of them exhaust the web
process. This protocol gives every phase of a request a deadline:

* **headers**: from a new connection, or from the first byte of the next request on a
  kept-alive one, the header block must be complete within ``WEB_HEADER_TIMEOUT`` and
  within ``WEB_MAX_HEADER_BYTES``; past either the client gets 408 or 431 and the
  connection is closed;
* **body**: once the headers are in, the body must be complete within
  ``WEB_BODY_TIMEOUT`` (the app then sees a disconnect);
* **idle keep-alive**: ``WEB_KEEP_ALIVE_TIMEOUT`` (uvicorn's own timer, set from our
  settings);
* **connections**: ``WEB_MAX_CONNECTIONS`` (uvicorn's ``limit_concurrency``: requests
  past it get 503).

The Procfile's ``web`` line selects it with ``--http
channel_app_template.api.server:BoundedHttpProtocol``; the values come from the
validated settings (:func:`configure`, called by :mod:`channel_app_template.api.main`),
so they are bounded and documented in one place rather than on the command line.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Any

from channel_app_template.api._coalesce import CoalescingTransport
from channel_app_template.api._lane import GetLane, LaneCycle
from channel_app_template.processes import startup_checks
from channel_app_template.settings import Role, Settings, load_settings_or_exit

try:  # the faster parser when it is installed, as uvicorn's own "auto" choice does
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # pragma: no cover - depends on the installed extras
    from uvicorn.protocols.http.h11_impl import (  # type: ignore[assignment]
        H11Protocol as _BaseProtocol,
    )

__all__ = ["BoundedHttpProtocol", "ServerLimits", "configure", "current_limits", "stats"]


@dataclass(frozen=True)
class ServerLimits:
    """The bounds one web process applies to every client connection."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    max_header_bytes: int = 65_536

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        return cls(
            header_timeout=settings.web_header_timeout,
            body_timeout=settings.web_body_timeout,
            keep_alive_timeout=settings.web_keep_alive_timeout,
            max_connections=settings.web_max_connections,
            max_header_bytes=settings.web_max_header_bytes,
        )


@dataclass
class ServerStats:
    """Connections this process cut off, for ``/health``'s details."""

    header_timeouts: int = 0
    body_timeouts: int = 0
    oversized_headers: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "header_timeouts": self.header_timeouts,
            "body_timeouts": self.body_timeouts,
            "oversized_headers": self.oversized_headers,
        }


stats = ServerStats()
_limits: ServerLimits | None = None


def configure(settings: Settings) -> None:
    """Use ``settings``' bounds for every connection accepted from now on."""
    global _limits
    _limits = ServerLimits.from_settings(settings)


def current_limits() -> ServerLimits:
    """The configured bounds; read (and validated) from the environment if not yet set."""
    if _limits is None:
        configure(load_settings_or_exit(Role.WEB, startup_checks(Role.WEB)))
    assert _limits is not None
    return _limits


class _Phase(enum.Enum):
    HEADERS = "headers"  # waiting for a complete header block
    BODY = "body"  # headers in, the body still arriving
    APP = "app"  # the request is complete; the app answers (its own timeouts apply)
    IDLE = "idle"  # between requests; uvicorn's keep-alive timer runs


def _refusal(status: bytes, text: bytes) -> bytes:
    """A complete response that also closes the connection, written before any app runs."""
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n" + text
    )


_REQUEST_TIMEOUT = _refusal(b"408 Request Timeout", b"The request was not sent in time.\n")
_HEADERS_TOO_LARGE = _refusal(
    b"431 Request Header Fields Too Large", b"The request headers are too large.\n"
)


class BoundedHttpProtocol(_BaseProtocol):
    """uvicorn's protocol plus deadlines for the header and body phases of a request.

    The phase is derived from uvicorn's own state after each event (a new ``cycle``
    means a header block was parsed; ``cycle.more_body`` turning false means the body
    is in), so the same code works on top of either of uvicorn's parsers.
    """

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = current_limits()
        self.limits = limits
        # uvicorn types it int, but only passes it to loop.call_later, which takes float.
        self.timeout_keep_alive = limits.keep_alive_timeout  # type: ignore[assignment]
        self.limit_concurrency = limits.max_connections
        self._phase = _Phase.HEADERS
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._known_cycle: Any = None
        # The proxy's GET lane (``_lane``), when the app is the web process's own.
        lane = getattr(self.app, "lane", None)
        self._lane = lane if isinstance(lane, GetLane) else None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # A response's header block and body leave in one write (``_coalesce`` says why).
        super().connection_made(CoalescingTransport(transport, self.loop))
        # A connection that never sends a byte is bounded like a slow header.
        self._arm(self.limits.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._phase is _Phase.IDLE:
            self._phase = _Phase.HEADERS
            self._header_bytes = 0
        if self._phase is _Phase.HEADERS:
            self._header_bytes += len(data)
        super().data_received(data)
        self._follow()
        if self._phase is _Phase.HEADERS:
            if self._header_bytes > self.limits.max_header_bytes:
                stats.oversized_headers += 1
                self._close_with(_HEADERS_TOO_LARGE)
            elif self._deadline is None:
                # Armed only for a request still incomplete after its first bytes: the
                # usual request arrives whole and costs no timer at all.
                self._arm(self.limits.header_timeout)

    def on_headers_complete(self) -> None:
        if self._lane is None or not self._lane.take(self):
            super().on_headers_complete()

    def on_response_complete(self) -> None:
        known = self.cycle
        super().on_response_complete()
        if self.cycle is known:
            self._phase = _Phase.IDLE
            self._cancel()
        else:  # a pipelined request started inside uvicorn's handler
            self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        cycle = self.cycle
        super().connection_lost(exc)
        if isinstance(cycle, LaneCycle):
            cycle.cancel()

    # ------------------------------------------------------------------------------

    def _follow(self) -> None:
        cycle = self.cycle
        if cycle is None:
            return
        if cycle is not self._known_cycle:
            self._known_cycle = cycle
            self._header_bytes = 0
            if cycle.more_body:
                self._phase = _Phase.BODY
                self._arm(self.limits.body_timeout)  # a new deadline, from the headers' end
            else:
                self._phase = _Phase.APP
                self._cancel()
        elif self._phase is _Phase.BODY and not cycle.more_body:
            self._phase = _Phase.APP
            self._cancel()

    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._phase is _Phase.HEADERS:
            stats.header_timeouts += 1
            # Say why only to a client that started a request; an idle socket just closes.
            self._close_with(_REQUEST_TIMEOUT if self._header_bytes else b"")
        elif self._phase is _Phase.BODY:
            stats.body_timeouts += 1
            started = getattr(self.cycle, "response_started", True)
            self._close_with(b"" if started else _REQUEST_TIMEOUT)

    def _close_with(self, reply: bytes) -> None:
        self._cancel()
        if reply:
            self.transport.write(reply)
        self.transport.close()
