"""The request side of shaping: what the client asked for, and the query the app sees.

``ignore_page`` and ``empty_page`` act before the app runs (they hide paging parameters); the
other kinds read the original request afterwards, to build ``next`` links that point back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from starlette.types import Scope

if TYPE_CHECKING:
    from ..faults import FaultRule


@dataclass(frozen=True)
class RequestContext:
    """The request as the client sent it: to build ``next`` links and read its position."""

    base_url: str
    query: tuple[tuple[str, str], ...]

    @classmethod
    def from_scope(cls, scope: Scope) -> RequestContext:
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        base = f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}"
        raw = scope.get("query_string", b"").decode("latin-1")
        return cls(base, tuple(parse_qsl(raw, keep_blank_values=True)))

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def url(self, **changes: str) -> str:
        kept = [(k, v) for k, v in self.query if k not in changes]
        kept += list(changes.items())
        return f"{self.base_url}?{urlencode(kept)}" if kept else self.base_url


def rewrite_request(scope: Scope, shapers: list[FaultRule]) -> Scope:
    """Drop the query parameters ``ignore_page`` (and ``empty_page``: ``page``) name."""
    dropped: set[str] = set()
    for rule in shapers:
        if rule.action == "ignore_page":
            dropped.update(rule.params["params"])
        elif rule.action == "empty_page":
            dropped.add("page")
    if not dropped:
        return scope
    raw = scope.get("query_string", b"").decode("latin-1")
    kept = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True) if k not in dropped]
    return {**scope, "query_string": urlencode(kept).encode("latin-1")}
