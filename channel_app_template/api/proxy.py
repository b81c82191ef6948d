"""A streaming reverse proxy from the public ``/flower/*`` to the in-cluster Flower.

It is a plain ASGI handler rather than a FastAPI route because, at the request rates the
dashboard and API produce, routing and request objects cost more than the forwarding
itself. The upstream client is aiohttp: in our benchmark (``bench/bench_proxy.py``) it
forwarded several times more requests per second per core than httpx or httpcore. A
``GET`` without a body, most of what the dashboard and API send, goes over the proxy's own
kept-alive connections instead (``_connections``: a third of aiohttp's CPU per request).

Every rule of ``flower.md`` section 4 is implemented by this module and the private
ones it is made of, one role each: ``_paths`` (which paths are served, which only
read), ``_headers`` (header rewriting both ways), ``_upstream`` (the aiohttp client,
the direct connections of ``_connections`` and their connection limit), ``_exchange``
(the client side: body, disconnects),
``_forward`` (streaming a request through) and ``_result_polls`` (the waits taken over
from Flower). The regression tests in ``tests/integration/test_proxy_*.py`` name the
rule (P01..P23) they protect.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp

from channel_app_template.api._asgi import (
    RETRY_SOON,
    Receive,
    Scope,
    Send,
    refuse_login,
    respond,
)
from channel_app_template.api._config import ProxyConfig
from channel_app_template.api._forward import Forwarder
from channel_app_template.api._headers import HeaderRewriter, has_body, header
from channel_app_template.api._lane import GetLane
from channel_app_template.api._paths import ALIAS, PREFIX, is_read, path_problem
from channel_app_template.api._result_polls import ResultPolls
from channel_app_template.api._upstream import AnswerTooLarge, Upstream
from channel_app_template.api.auth import Access
from channel_app_template.api.waits import Busy, WaitKind, WaitLimiter, classify

__all__ = [
    "AnswerTooLarge",
    "FlowerProxy",
    "ProxyConfig",
    "Receive",
    "Scope",
    "Send",
    "refuse_login",
    "running",
]

logger = logging.getLogger(__name__)


class FlowerProxy:
    """The ASGI handler for ``/flower`` and ``/flower/...``; call :meth:`start` first."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self._upstream = Upstream(config)
        rewriter = HeaderRewriter(
            config.upstream, config.upstream_authorization, config.trust_forwarded_headers
        )
        self._forwarder = Forwarder(config, self._upstream, rewriter)
        # Plain GETs, served from the HTTP protocol under the same rules (``_lane``).
        self.lane = GetLane(config, self._upstream, rewriter)
        self._polls = ResultPolls(config, self._forwarder)
        self.waits = WaitLimiter(config.waits)
        self.online_workers = self._polls.online_workers

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The upstream client, for health checks that talk to Flower directly."""
        return self._upstream.session

    async def start(self) -> None:
        await self._upstream.start()

    async def close(self) -> None:
        await self._upstream.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        headers: list[tuple[bytes, bytes]] = scope["headers"]

        admission = self.config.gate.admit(scope, header(headers, b"authorization"))
        caller = admission.caller
        if caller is None:
            await refuse_login(send, admission.verdict, admission.retry_after)
            return
        if raw_path == PREFIX:
            location = b"/flower/" + (b"?" + query if query else b"")
            await respond(send, 307, b"", [(b"location", location)])
            return
        aliased = raw_path.startswith(ALIAS)
        path = PREFIX + raw_path if aliased else raw_path
        problem = path_problem(path, query)
        if problem:
            await respond(send, 400, problem.encode() + b"\n")
            return
        method: str = scope["method"]
        if not is_read(method, path):
            # An audit trail of who triggered, revoked or reconfigured what.
            allowed = caller.access is Access.FULL
            logger.info(
                "flower %s by %s: %s %s",
                "change" if allowed else "change refused",
                caller.username,
                method,
                raw_path.decode("ascii", "replace")[:200],
            )
            if not allowed:
                await respond(send, 403, b"Read-only users cannot change anything.\n")
                return
        elif method in ("GET", "HEAD") and has_body(headers):
            # Flower reads arguments from form bodies too, so a body could carry a
            # ``timeout`` or ``refresh`` past the rules below; GETs never need one.
            await respond(send, 400, b"GET and HEAD requests must not have a body.\n")
            return
        kind = classify(method, path, query)
        if kind is None:
            await self._forwarder.forward(scope, receive, send, path, query, headers, aliased)
            return
        try:
            # Checked before taking a wait: a 404 costs nobody anything.
            if kind is WaitKind.FLOWER and await self._polls.inspects_an_unavailable_worker(
                send, path, query
            ):
                return
            async with self.waits.hold(caller.username, kind):
                if kind is WaitKind.FLOWER:
                    await self._forwarder.forward(
                        scope, receive, send, path, query, headers, aliased
                    )
                elif kind is WaitKind.RESULT:
                    await self._polls.wait_for_result(scope, receive, send, path, query, headers)
                else:
                    await self._polls.apply(scope, receive, send, path, query, headers)
        except Busy as busy:
            await respond(send, busy.status, str(busy).encode() + b"\n", [RETRY_SOON])


@contextlib.asynccontextmanager
async def running(proxy: FlowerProxy) -> AsyncIterator[FlowerProxy]:
    """Start ``proxy`` for the lifetime of the block."""
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
