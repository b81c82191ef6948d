"""The ASGI middleware that applies a ``FaultConfig`` around the wrapped app: ``/api/`` paths
only, so ``/_sandbox/`` stays reliable for tests to inspect and reconfigure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import shaping
from ._config import FaultConfig
from ._terminal import drf_error_body, drop, send_error, swallow, trickle
from ._throttle import DisconnectWatcher, throttle


class FaultMiddleware:
    """Applies ``FaultConfig`` to ``/api/`` requests before/after the wrapped app.

    ``error_body(status)`` shapes the JSON of an injected error like the simulated peer would.
    """

    def __init__(
        self,
        app: ASGIApp,
        config: FaultConfig,
        error_body: Callable[[int], Any] = drf_error_body,
    ) -> None:
        self.app = app
        self.config = config
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        plan = self.config.plan(scope["method"], path)
        if plan.delay_ms > 0:
            await asyncio.sleep(plan.delay_ms / 1000)
        rule = plan.terminal
        if rule is not None and rule.action == "error":
            await send_error(send, rule, self.error_body(rule.status))
            return
        if rule is not None and rule.action == "drop":
            drop(receive)
            return
        if rule is not None and rule.action == "lost_response":
            await self.app(scope, receive, swallow)
            drop(receive)
            return
        watcher = DisconnectWatcher(receive)
        out = send
        if plan.bytes_per_second is not None:
            out = throttle(send, plan.bytes_per_second, watcher)
        elif rule is not None:  # slow: the response body trickles out over delay_ms
            out = trickle(send, rule.delay_ms)
        try:
            if plan.shapers:
                context = shaping.RequestContext.from_scope(scope)
                inner = shaping.rewrite_request(scope, plan.shapers)
                await shaping.respond(
                    self.app, inner, watcher.receive, out, plan.shapers, context, watcher
                )
            else:
                await self.app(scope, watcher.receive, out)
        finally:
            watcher.stop()
