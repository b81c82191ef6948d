"""The fault layer's state, and the decision for one request: which rules match it (path,
method, ``times``, the seeded ``rate``), counted in ``fired``, and what they add up to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from random import Random
from typing import Any

from ._parse import build_rule, parse_int
from ._rule import MAX_DELAY_MS, SHAPING, FaultRule

MAX_RULES = 1000


@dataclass
class Plan:
    """What the fault layer does to one request, decided before the app runs."""

    delay_ms: int = 0
    terminal: FaultRule | None = None
    shapers: list[FaultRule] = field(default_factory=list)
    bytes_per_second: int | None = None


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
        return build_rule(spec)

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
            latency = parse_int("latency_ms", body["latency_ms"] or 0)
            if not 0 <= latency <= MAX_DELAY_MS:
                raise ValueError(f"latency_ms must be within [0, {MAX_DELAY_MS}]")
        kept = [] if body.get("replace") else self.rules
        if len(kept) + len(built) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} fault rules")
        if "seed" in body:
            self.reseed(None if body["seed"] is None else parse_int("seed", body["seed"]))
        self.latency_ms = latency
        self.rules[:] = kept
        for rule in built:
            rule.id = next(self.ids)
            self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def remove(self, rule_id: int) -> bool:
        """Drop the rule with this id; whether there was one (``DELETE .../faults/<id>/``)."""
        before = len(self.rules)
        self.rules[:] = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) < before
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
