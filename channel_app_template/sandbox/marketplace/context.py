"""The per-app marketplace state (no module globals) and the ``/api/`` request guard."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from starlette.requests import Request

from channel_app_template.sandbox.common.faults import FaultConfig

from .errors import api_error
from .ratelimit import RateLimiter
from .store import MarketStore

DEFAULT_API_KEY = "sandbox-key"
API_KEY_HEADER = "X-Api-Key"


@dataclass
class Market:
    store: MarketStore
    faults: FaultConfig
    limiter: RateLimiter
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    defaults: dict[str, float] = field(default_factory=dict)  # start-up settings, for reset


def market_of(request: Request) -> Market:
    market: Market = request.app.state.market
    return market


def guard(request: Request) -> Market:
    """Authenticate (401), rate-limit (429), then settle due batches; return the market."""
    market = market_of(request)
    key = request.headers.get(API_KEY_HEADER, "")
    if not key or not any(
        hmac.compare_digest(key.encode(), known.encode()) for known in market.api_keys
    ):
        raise api_error(
            401,
            "unauthorized",
            f"Missing or invalid API key in the {API_KEY_HEADER} header.",
        )
    allowed, wait, left = market.limiter.take(key)
    if market.limiter.rate > 0:
        request.state.rate_limit_headers = [
            (b"x-ratelimit-limit", f"{market.limiter.rate:g}".encode()),
            (b"x-ratelimit-remaining", str(left).encode()),
        ]
    if not allowed:
        raise api_error(
            429,
            "rate_limited",
            "Too many requests for this API key.",
            {"retry_after_seconds": round(wait, 3)},
            {
                "Retry-After": str(market.limiter.retry_after(wait)),
                "X-RateLimit-Limit": f"{market.limiter.rate:g}",
                "X-RateLimit-Remaining": "0",
            },
        )
    market.store.settle()
    return market
