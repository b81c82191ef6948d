"""Fault injection: the simulators misbehave on purpose, by rules set at start-up or at run time.

Implemented as a pure ASGI middleware in front of the app, so it can close the TCP connection,
rewrite a request before the app sees it, and reshape or stream an answer after. Only ``/api/``
paths are affected; ``/_sandbox/`` stays reliable so tests can always inspect and reconfigure.
With a ``seed`` every ``rate`` decision comes from one seeded RNG, so the same request sequence
meets the same faults.

Rules are evaluated in order for each request whose path matches their ``pattern`` (a regex
searched in the path) and whose method is in ``methods`` (all when unset):

* transport, stacking: ``delay`` adds ``delay_ms`` before the answer; ``trickle`` sends the
  answer's body at ``bytes_per_second``;
* shaping, stacking (see :mod:`.shaping`): ``ignore_page``, ``repeat_next``, ``empty_page``,
  ``wrong_shape``, ``drop_field``, ``set_field``, ``huge_body``, ``extra_rows``;
* terminal, the first one ends the evaluation: ``error``, ``drop``, ``lost_response``, ``slow``.

``fired`` counts the requests a rule matched; ``times`` stops a rule after that many.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import shaping

__all__ = [
    "ACTIONS",
    "ERROR_BODIES",
    "SHAPING",
    "STACKING",
    "TERMINAL",
    "WRITE_METHODS",
    "ConnectionDropped",
    "FaultConfig",
    "FaultMiddleware",
    "FaultRule",
    "Plan",
    "drf_error_body",
    "parse_rule_flag",
]

TERMINAL = frozenset({"error", "drop", "lost_response", "slow"})
STACKING = frozenset({"delay", "trickle"})
SHAPING = shaping.KINDS
ACTIONS = TERMINAL | STACKING | SHAPING
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_BODIES = {
    429: {"detail": "Request was throttled."},
    500: {"detail": "A server error occurred."},
    502: {"detail": "Bad gateway."},
    503: {"detail": "Service temporarily unavailable."},
}
MAX_RULES = 1000
MAX_PATTERN = 1000
MAX_DELAY_MS = 3_600_000  # an hour: longer than any client deadline worth testing
MAX_RETRY_AFTER = 10_000_000
COMMON_KEYS = frozenset(
    {"id", "pattern", "action", "rate", "methods", "times", "fired", "status", "retry_after"}
)
COMMON_KEYS_DELAY = frozenset({"delay_ms"})
# Parameters of the kinds beyond the original five: name -> (parser, default).
TRICKLE_PARAMS: dict[str, tuple[Callable[[str, Any], Any], Any]] = {
    "bytes_per_second": (shaping.int_in("bytes_per_second", 1, 10**9), 100),
}


class ConnectionDropped(Exception):
    """Raised when no server transport can be closed (in-process test clients)."""


def _param_specs(action: str) -> dict[str, tuple[Callable[[str, Any], Any], Any]]:
    if action == "trickle":
        return TRICKLE_PARAMS
    return shaping.PARAMS.get(action, {})


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
    params: dict[str, Any] = field(default_factory=dict)  # the kind's own parameters
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {sorted(ACTIONS)}")
        if self.action == "error" and self.status not in ERROR_BODIES:
            raise ValueError("error status must be one of 429, 500, 502, 503")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms must be within [0, {MAX_DELAY_MS}]")
        if self.retry_after is not None and not 0 <= self.retry_after <= MAX_RETRY_AFTER:
            raise ValueError(f"retry_after must be within [0, {MAX_RETRY_AFTER}]")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if len(self.pattern) > MAX_PATTERN:
            raise ValueError(f"pattern is limited to {MAX_PATTERN} characters")
        if self.action == "lost_response" and self.methods is None:
            self.methods = WRITE_METHODS
        try:
            self.regex = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None

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
            **self.params,
        }


@dataclass
class Plan:
    """What the fault layer does to one request, decided before the app runs."""

    delay_ms: int = 0
    terminal: FaultRule | None = None
    shapers: list[FaultRule] = field(default_factory=list)
    bytes_per_second: int | None = None


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer") from None
    if isinstance(number, float) and (not math.isfinite(number) or number != int(number)):
        raise ValueError(f"{name} must be an integer")
    return int(number)


def _rate(value: Any) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValueError("rate must be a number within [0, 1]") from None
    if not math.isfinite(rate):
        raise ValueError("rate must be a number within [0, 1]")
    return rate


@dataclass
class FaultConfig:
    """Everything the fault layer does; changed by CLI flags and ``/_sandbox/faults/``."""

    latency_ms: int = 0
    seed: int | None = None
    rules: list[FaultRule] = field(default_factory=list)
    random: Random = field(default_factory=Random)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if not 0 <= self.latency_ms <= MAX_DELAY_MS:
            raise ValueError(f"latency_ms must be within [0, {MAX_DELAY_MS}]")
        self.reseed(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self.random = Random(seed)

    def build(self, spec: Any) -> FaultRule:
        """A rule from JSON-ish input (also ``--fault`` CLI flags); ``ValueError`` says what is
        wrong with it. The rule is not added."""
        if not isinstance(spec, dict):
            raise ValueError("a fault rule is an object")
        action = str(spec.get("action", "error"))
        own = _param_specs(action)
        allowed = COMMON_KEYS | COMMON_KEYS_DELAY | own.keys()
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} for action {action!r}; "
                f"allowed: {sorted(allowed - {'id', 'fired'})}"
            )
        methods = spec.get("methods")
        if isinstance(methods, str):
            methods = methods.split("|")
        if methods is not None and (not isinstance(methods, list) or len(methods) > 10):
            raise ValueError("methods is a list of at most 10 HTTP methods")
        params = {
            name: parse(name, spec[name]) if name in spec else default
            for name, (parse, default) in own.items()
        }
        shaping.check(action, params)
        return FaultRule(
            id=0,
            pattern=str(spec.get("pattern", "")),
            action=action,
            rate=_rate(spec.get("rate", 1.0)),
            status=_int("status", spec.get("status", 503)),
            retry_after=None
            if spec.get("retry_after") is None
            else _int("retry_after", spec["retry_after"]),
            delay_ms=_int("delay_ms", spec.get("delay_ms", 0)),
            methods=frozenset(str(m).upper() for m in methods) if methods else None,
            times=None if spec.get("times") is None else _int("times", spec["times"]),
            params=params,
        )

    def add(self, spec: Any) -> FaultRule:
        """Validate and append one rule (``ValueError`` when invalid or too many)."""
        rule = self.build(spec)
        if len(self.rules) >= MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} fault rules")
        rule.id = next(self.ids)
        self.rules.append(rule)
        return rule

    def update(self, body: Any) -> None:
        """``POST /_sandbox/faults/``: ``{"latency_ms", "seed", "rules": [...], "replace"}``.

        Every rule is validated before any is added, so a bad one changes nothing."""
        if not isinstance(body, dict):
            raise ValueError("expected an object")
        raw_rules = body.get("rules") or []
        if not isinstance(raw_rules, list):
            raise ValueError("rules is a list of rule objects")
        built = [self.build(spec) for spec in raw_rules]
        latency = self.latency_ms
        if "latency_ms" in body:
            latency = _int("latency_ms", body["latency_ms"] or 0)
            if not 0 <= latency <= MAX_DELAY_MS:
                raise ValueError(f"latency_ms must be within [0, {MAX_DELAY_MS}]")
        kept = [] if body.get("replace") else self.rules
        if len(kept) + len(built) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} fault rules")
        if "seed" in body:
            self.reseed(None if body["seed"] is None else _int("seed", body["seed"]))
        self.latency_ms = latency
        self.rules[:] = kept
        for rule in built:
            rule.id = next(self.ids)
            self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()
        self.latency_ms = 0

    def plan(self, method: str, path: str) -> Plan:
        """Everything that happens to this request; counts ``fired`` on each matched rule."""
        plan = Plan(delay_ms=self.latency_ms)
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.rate < 1.0 and self.random.random() >= rule.rate:
                continue
            rule.fired += 1
            if rule.action == "delay":
                plan.delay_ms += rule.delay_ms
            elif rule.action == "trickle":
                plan.bytes_per_second = int(rule.params["bytes_per_second"])
            elif rule.action in SHAPING:
                plan.shapers.append(rule)
            else:
                plan.terminal = rule
                break
        return plan

    def decide(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Extra delay (ms) for this request, and the terminal rule that fires, if any."""
        plan = self.plan(method, path)
        return plan.delay_ms, plan.terminal

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "seed": self.seed,
            "rules": [rule.as_dict() for rule in self.rules],
        }


def parse_rule_flag(text: str) -> dict[str, Any]:
    """``--fault 'action=error,status=503,rate=0.2,pattern=/products/'`` or a JSON object.

    In the ``key=value`` form every value is text (``methods`` and ``params`` take ``|``
    lists); use the JSON form for typed values such as ``set_field``'s ``value``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"fault rule is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError("a fault rule is an object")
        return loaded
    spec: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault rule part {part!r} is not key=value")
        if key.strip() in ("methods", "params"):
            spec[key.strip()] = value.split("|")
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
        plan = self.config.plan(scope["method"], path)
        if plan.delay_ms > 0:
            await asyncio.sleep(plan.delay_ms / 1000)
        rule = plan.terminal
        if rule is not None and rule.action == "error":
            await _send_error(send, rule, self.error_body(rule.status))
            return
        if rule is not None and rule.action == "drop":
            _drop(receive)
            return
        if rule is not None and rule.action == "lost_response":
            await self.app(scope, receive, _swallow)
            _drop(receive)
            return
        watcher = _DisconnectWatcher(receive)
        out = send
        if plan.bytes_per_second is not None:
            out = _throttle(send, plan.bytes_per_second, watcher)
        elif rule is not None:  # slow: the response body trickles out over delay_ms
            out = _trickle(send, rule.delay_ms)
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


class _DisconnectWatcher:
    """Learns that the client went away, so long fault answers stop producing bytes.

    The app keeps its own ``receive`` (it may read the request body first); once the app is
    done with it, ``start()`` waits for ``http.disconnect`` in the background."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.gone = False
        self._task: asyncio.Task[None] | None = None
        self._reading = False

    async def receive(self) -> Message:
        self._reading = True
        try:
            message = await self._receive()
        finally:
            self._reading = False
        if message["type"] == "http.disconnect":
            self.gone = True
        return message

    def start(self) -> None:
        if self._task is None and not self._reading and not self.gone:
            self._task = asyncio.ensure_future(self._wait())

    async def _wait(self) -> None:
        while not self.gone:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone = True
            else:  # a server that repeats request messages must not make this spin
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def _swallow(message: Message) -> None:
    """Let the app finish its write, then discard what it would have answered."""


async def _send_error(send: Send, rule: FaultRule, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rule.status == 429 or rule.retry_after is not None:
        retry = 1 if rule.retry_after is None else rule.retry_after
        headers.append((b"retry-after", str(retry).encode()))
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


THROTTLE_TICK = 0.1  # seconds between chunks of a trickled body


def _throttle(send: Send, bytes_per_second: int, watcher: _DisconnectWatcher) -> Send:
    """Every body byte goes out at ``bytes_per_second`` (headers at once), in chunks sent
    every 100 ms, until the client leaves."""
    chunk = max(1, min(int(bytes_per_second * THROTTLE_TICK), 65536))
    pause = chunk / bytes_per_second

    async def throttled(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        watcher.start()
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body"))
        for start in range(0, len(body), chunk):
            if watcher.gone:
                return
            piece = body[start : start + chunk]
            last = start + chunk >= len(body)
            await send({"type": "http.response.body", "body": piece, "more_body": more or not last})
            if not last or more:
                await asyncio.sleep(pause)
        if not body and not more:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return throttled
