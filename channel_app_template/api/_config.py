"""What the proxy is configured with, shared by the pieces it is made of."""

from __future__ import annotations

from dataclasses import dataclass, field

from channel_app_template.api.login import LoginGate
from channel_app_template.api.waits import WaitLimits


@dataclass(frozen=True)
class ProxyConfig:
    """What the proxy needs to know; built from settings in :mod:`channel_app_template.api.app`."""

    upstream: str
    gate: LoginGate
    upstream_authorization: bytes
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    pool_timeout: float = 5.0
    max_connections: int = 100
    max_body_bytes: int = 65_536
    trust_forwarded_headers: bool = False
    waits: WaitLimits = field(default_factory=WaitLimits)
