"""Builds the web process: FastAPI for our own routes, the raw proxy for ``/flower``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from channel_app_template.api.auth import BasicAuthenticator, basic_authorization
from channel_app_template.api.health import HealthChecks, HealthMonitor, health_router
from channel_app_template.api.login import LoginGate, LoginLimits, LoginThrottle
from channel_app_template.api.proxy import FlowerProxy, ProxyConfig, Receive, Scope, Send
from channel_app_template.api.waits import WaitLimits
from channel_app_template.settings import Settings


def login_gate(settings: Settings) -> LoginGate:
    return LoginGate(
        BasicAuthenticator(settings.flower_credentials, settings.flower_readonly_credentials),
        LoginThrottle(LoginLimits.from_settings(settings)),
        trust_forwarded_headers=settings.proxy_trust_forwarded_headers,
    )


def proxy_config(settings: Settings, gate: LoginGate) -> ProxyConfig:
    full = settings.flower_credentials
    return ProxyConfig(
        upstream=settings.flower_upstream,
        gate=gate,
        # Flower knows only the first full-access user; read-only users never hold
        # credentials that would work on Flower directly.
        upstream_authorization=basic_authorization(full[0]),
        connect_timeout=settings.proxy_connect_timeout,
        read_timeout=settings.proxy_read_timeout,
        pool_timeout=settings.proxy_pool_timeout,
        max_connections=settings.proxy_max_connections,
        max_body_bytes=settings.proxy_max_body_bytes,
        trust_forwarded_headers=settings.proxy_trust_forwarded_headers,
        waits=WaitLimits.from_settings(settings),
    )


class WebApp:
    """Sends ``/flower``, ``/flower/...`` and ``/api/...`` to the proxy, the rest to FastAPI.

    ``/api/...`` is Flower's task API at the root, as the incumbent app served it (its
    Flower ran without a prefix), so trigger scripts written for it work unchanged:
    the same authentication, rules and limits as ``/flower/api/...``, no redirect.
    """

    def __init__(self, api: FastAPI, proxy: FlowerProxy) -> None:
        self.api = api
        self.proxy = proxy
        # Read by the Procfile's HTTP protocol (``server.BoundedHttpProtocol``), which
        # serves plain proxied GETs itself (``_lane`` says why).
        self.lane = proxy.lane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(("/flower/", "/api/")) or path == "/flower":
                await self.proxy(scope, receive, send)
                return
        await self.api(scope, receive, send)


def health_monitor(settings: Settings, proxy: FlowerProxy) -> HealthMonitor:
    checks = HealthChecks(settings, lambda: proxy.session)
    # Two missed rounds, plus the longest a round can take, before "ok" goes stale.
    stale_after = 2 * settings.health_interval + settings.health_timeout + 5.0
    return HealthMonitor(checks, settings.health_interval, stale_after)


def create_app(settings: Settings) -> WebApp:
    """The web process's ASGI app for ``settings`` (already validated for ``Role.WEB``)."""
    gate = login_gate(settings)
    proxy = FlowerProxy(proxy_config(settings, gate))
    monitor = health_monitor(settings, proxy)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await proxy.start()
        monitor.start()  # the first probe runs now, not at the first /health call
        try:
            yield {}
        finally:
            await monitor.stop()
            await proxy.close()

    api = FastAPI(
        title="channel_app_template",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    api.include_router(health_router(monitor, gate, proxy.waits))
    return WebApp(api, proxy)
