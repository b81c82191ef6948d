"""Fault injection: latency, error statuses, dropped connections, slow bodies, lost responses.

Implemented as a pure ASGI middleware in front of the app, so it can close the TCP connection
itself. Only ``/api/`` paths are affected; ``/_sandbox/`` stays reliable so tests can always
inspect and reconfigure. With a ``seed`` every decision comes from one seeded RNG, so the same
request sequence meets the same faults.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACTIONS = frozenset({"error", "drop", "lost_response", "delay", "slow"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_BODIES = {
    429: {"detail": "Request was throttled."},
    500: {"detail": "A server error occurred."},
    502: {"detail": "Bad gateway."},
    503: {"detail": "Service temporarily unavailable."},
}


class ConnectionDropped(Exception):
    """Raised when no server transport can be closed (in-process test clients)."""


@dataclass
class FaultRule:
    """One rule: requests whose path matches ``pattern`` (regex search) meet ``action``."""

    id: int
    pattern: str
    action: str
    rate: float = 1.0
    status: int = 503
    retry_after: int | None = None
    delay_ms: int = 0
    methods: frozenset[str] | None = None
    times: int | None = None  # fire at most this many times, then stay inert
    fired: int = 0
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {sorted(ACTIONS)}")
        if self.action == "error" and self.status not in ERROR_BODIES:
            raise ValueError("error status must be one of 429, 500, 502, 503")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if self.action == "lost_response" and self.methods is None:
            self.methods = WRITE_METHODS
        self.regex = re.compile(self.pattern)

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.regex.search(path) is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pattern": self.pattern,
            "action": self.action,
            "rate": self.rate,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "times": self.times,
            "fired": self.fired,
            "methods": sorted(self.methods) if self.methods else None,
        }


@dataclass
class FaultConfig:
    """Everything the fault layer does; changed by CLI flags and ``/_sandbox/faults/``."""

    latency_ms: int = 0
    seed: int | None = None
    rules: list[FaultRule] = field(default_factory=list)
    random: Random = field(default_factory=Random)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.reseed(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self.random = Random(seed)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Build a rule from JSON-ish input (also used for ``--fault`` CLI flags)."""
        methods = spec.get("methods")
        rule = FaultRule(
            id=next(self.ids),
            pattern=str(spec.get("pattern", "")),
            action=str(spec.get("action", "error")),
            rate=float(spec.get("rate", 1.0)),
            status=int(spec.get("status", 503)),
            retry_after=None if spec.get("retry_after") is None else int(spec["retry_after"]),
            delay_ms=int(spec.get("delay_ms", 0)),
            methods=frozenset(m.upper() for m in methods) if methods else None,
            times=None if spec.get("times") is None else int(spec["times"]),
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self.latency_ms = 0

    def decide(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Extra delay (ms) for this request, and the terminal rule that fires, if any."""
        delay = self.latency_ms
        chosen: FaultRule | None = None
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.rate < 1.0 and self.random.random() >= rule.rate:
                continue
            rule.fired += 1
            if rule.action == "delay":
                delay += rule.delay_ms
                continue
            chosen = rule
            break
        return delay, chosen

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "seed": self.seed,
            "rules": [rule.as_dict() for rule in self.rules],
        }


def parse_rule_flag(text: str) -> dict[str, Any]:
    """``--fault 'action=error,status=503,rate=0.2,pattern=/products/'`` or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        loaded: dict[str, Any] = json.loads(text)
        return loaded
    spec: dict[str, Any] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "methods":
            spec["methods"] = value.split("|")
        else:
            spec[key.strip()] = value.strip()
    return spec


def drf_error_body(status: int) -> dict[str, Any]:
    """Omnitron's (DRF's) error bodies for injected statuses; the default."""
    return ERROR_BODIES[status]


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
        delay_ms, rule = self.config.decide(scope["method"], path)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.action == "error":
            await _send_error(send, rule, self.error_body(rule.status))
        elif rule.action == "drop":
            _drop(receive)
        elif rule.action == "lost_response":
            await self.app(scope, receive, _swallow)
            _drop(receive)
        else:  # slow: the response body trickles out in small chunks
            await self.app(scope, receive, _trickle(send, rule.delay_ms))


async def _swallow(message: Message) -> None:
    """Let the app finish its write, then discard what it would have answered."""


async def _send_error(send: Send, rule: FaultRule, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rule.status == 429 or rule.retry_after is not None:
        headers.append((b"retry-after", str(rule.retry_after or 1).encode()))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _drop(receive: Receive) -> None:
    """Close the client's TCP connection without a byte of response.

    uvicorn hands the app its cycle's bound ``receive``; through it we reach the transport and
    mark the cycle disconnected so uvicorn does not write a 500 afterwards.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("connection dropped by the fault layer")
    cycle.disconnected = True  # type: ignore[union-attr]
    transport.close()


def _trickle(send: Send, total_ms: int) -> Send:
    async def slow_send(message: Message) -> None:
        if message["type"] != "http.response.body" or not message.get("body"):
            await send(message)
            return
        body: bytes = message["body"]
        chunks = [body[i : i + 64] for i in range(0, len(body), 64)] or [b""]
        pause = max(total_ms, 1) / 1000 / len(chunks)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await send(
                {
                    "type": "http.response.body",
                    "body": chunk,
                    "more_body": (not last) or bool(message.get("more_body")),
                }
            )
            if not last:
                await asyncio.sleep(pause)

    return slow_send
