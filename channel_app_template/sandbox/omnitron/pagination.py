"""DRF page-number pagination as Omnitron serves it: ``page`` (1-based) + ``limit``, any size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import ApiError

DEFAULT_LIMIT = 10  # DRF's usual default when a client sends no limit # [INF]


@dataclass(frozen=True)
class Page:
    number: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.limit


def parse_page(params: dict[str, str]) -> Page:
    """A bad or non-positive ``limit`` falls back to the default, as DRF does. # [INF]"""
    raw_limit = params.get("limit") or params.get("page_size")
    try:
        limit = int(raw_limit) if raw_limit else DEFAULT_LIMIT
    except ValueError:
        limit = DEFAULT_LIMIT
    if limit <= 0:
        limit = DEFAULT_LIMIT
    raw_page = params.get("page", "1") or "1"
    if raw_page == "last":
        return Page(-1, limit)
    try:
        number = int(raw_page)
    except ValueError:
        raise ApiError(404, {"detail": "Invalid page."}) from None
    if number < 1:
        raise ApiError(404, {"detail": "Invalid page."})
    return Page(number, limit)


def resolve_last(page: Page, count: int) -> Page:
    if page.number != -1:
        return page
    return Page(max(1, -(-count // page.limit)), page.limit)


def envelope(
    results: list[Any], count: int, page: Page, base_url: str, query: list[tuple[str, str]]
) -> dict[str, Any]:
    """``next`` is null on the last page; asking past the last page is a 404 (DRF). # [INF]"""
    last = max(1, -(-count // page.limit))
    if page.number > last:
        raise ApiError(404, {"detail": "Invalid page."})
    return {
        "count": count,
        "next": _link(base_url, query, page.number + 1) if page.number < last else None,
        "previous": _link(base_url, query, page.number - 1) if page.number > 1 else None,
        "results": results,
    }


def _link(base_url: str, query: list[tuple[str, str]], number: int) -> str:
    kept = [(k, v) for k, v in query if k != "page"]
    kept.append(("page", str(number)))
    return f"{base_url}?{urlencode(kept)}"
