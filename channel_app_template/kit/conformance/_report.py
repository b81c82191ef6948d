"""The report: one result per check, in the order the checks run.

A check passes only when something exercised it: one that ran nothing is *skipped* with the
reason (its declared ``unsupported`` reason, "nothing in this run reached it", a getter
that returned nothing), never counted as passed.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from channel_app_template.channel.commands import COMMANDS

__all__ = ["CHECKS", "CheckResult", "ConformanceReport"]

CHECKS: tuple[str, ...] = (
    "load",
    "config",
    "describe",
    "marketplace",
    "check_connection",
    *COMMANDS,
    "catalog_batches",
    "order_ingestion",
)
"""Every check a report holds, in the order they run."""

MAX_MESSAGES = 20


@dataclass
class CheckResult:
    """One check: ``passed``, ``failed`` (with messages naming the command) or ``skipped``."""

    name: str
    messages: list[str] = field(default_factory=list)
    skip_reason: str = ""
    exercised: bool = False
    idle: str = ""
    """Why it ran without exercising anything (e.g. a getter that returned nothing)."""

    @property
    def status(self) -> str:
        if self.messages:
            return "failed"
        if self.skip_reason or not self.exercised:
            return "skipped"
        return "passed"

    @property
    def reason(self) -> str:
        """Why it was skipped (or the joined failure messages)."""
        if self.messages:
            return "\n".join(self.messages)
        if self.skip_reason:
            return f"{self.name}: {self.skip_reason}"
        if not self.exercised:
            return f"{self.name}: {self.idle or 'supported, but nothing in this run reached it'}"
        return ""


@dataclass
class ConformanceReport:
    module: str
    live: bool = False
    notes: list[str] = field(default_factory=list)
    """What the run did (objects sent, outcomes, orders ingested), for the reader."""
    results: dict[str, CheckResult] = field(
        default_factory=lambda: {name: CheckResult(name) for name in CHECKS}
    )

    def fail(self, check: str, message: str) -> None:
        result = self.results[check]
        text = message if message.startswith(check) else f"{check}: {message}"
        if text not in result.messages and len(result.messages) < MAX_MESSAGES:
            result.messages.append(text)

    def skip(self, check: str, reason: str) -> None:
        if not self.results[check].skip_reason:
            self.results[check].skip_reason = reason

    def ran(self, check: str) -> None:
        self.results[check].exercised = True

    def idle(self, check: str, why: str) -> None:
        """``check`` ran but exercised nothing (skipped with ``why`` unless it runs again)."""
        self.results[check].idle = self.results[check].idle or why

    def skip_unset(self, reason: str) -> None:
        """Skip every check that neither ran nor was skipped yet."""
        for result in self.results.values():
            if not result.exercised and not result.skip_reason:
                result.skip_reason = reason

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results.values() if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, int]:
        return dict(collections.Counter(r.status for r in self.results.values()))

    def format(self) -> str:
        """A readable report: failures first, then skips, then what passed."""
        lines = [
            f"conformance of {self.module} ({'with' if self.live else 'without'} a marketplace)"
        ]
        for status in ("failed", "skipped", "passed"):
            for result in self.results.values():
                if result.status == status:
                    detail = result.reason.replace("\n", "\n      ")
                    lines.append(
                        f"  {status.upper():8} {result.name}"
                        + (f"\n      {detail}" if detail else "")
                    )
        lines += [f"  note: {note}" for note in self.notes]
        counts = self.counts()
        lines.append(", ".join(f"{counts.get(s, 0)} {s}" for s in ("passed", "failed", "skipped")))
        return "\n".join(lines)
