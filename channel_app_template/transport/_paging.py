"""Reading a paginated list from a peer that may misbehave, one page at a time.

Every paginated read of every peer (Omnitron's ``page`` numbers, a marketplace's
``next_offset`` or ``next_cursor``) goes through :func:`walk_pages`, so the rules that end a
walk live in one place. A walk

* stops on an empty page, even when the peer still names a next page (then with a warning
  naming the peer and path: what a run did not read should not pass unsaid);
* refuses a page with more rows than the ``limit`` it asked for;
* refuses a next offset or page number that does not move forward, and a cursor it was
  already given (a loop of any length);
* refuses a page whose first row it has already seen (a peer that ignores ``page``);
* never yields more rows than the ``count`` the first page announced plus
  :func:`count_slack` (room for a list that grows while it is read), nor more than
  ``max_rows`` when the caller knows a hard bound;
* never fetches more than ``max_pages`` pages (``HTTP_MAX_PAGES``);
* yields pages as they come and keeps only what the checks need (page tokens and first-row
  ids, a few bytes per page), so memory does not grow with the list.

A refusal raises :class:`PagingError`, a :class:`RunError` naming the peer, the path and a
stable ``reason`` code, so a caller can tell a paging failure from any other error.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from channel_app_template.errors import RunError

__all__ = [
    "DEFAULT_MAX_PAGES",
    "MAX_PAGES_BOUND",
    "Page",
    "PageToken",
    "PagingError",
    "count_slack",
    "walk_pages",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 50_000  # 5M rows at 100 a page: above any real list, far below "forever"
MAX_PAGES_BOUND = 1_000_000

PageToken = int | str


class PagingError(RunError):
    """The peer's pagination broke a rule; ``reason`` says which (stable codes):

    ``too_many_rows``, ``not_forward``, ``bad_token``, ``cursor_repeated``,
    ``page_repeated``, ``past_count``, ``page_cap``.
    """

    def __init__(self, message: str, *, peer: str, reason: str, path: str) -> None:
        super().__init__(f"{peer} GET {path}: {message}", method="GET", path=path)
        self.peer = peer
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Page:
    """One page as the walk sees it.

    ``next`` is where the following page starts (an offset, a page number or an opaque
    cursor), ``None`` on the last page; ``count`` is the total the peer announced, if any;
    ``envelope`` is the decoded answer around the rows, for callers that need its other
    fields.
    """

    rows: list[Any]
    next: PageToken | None = None
    count: int | None = None
    envelope: Mapping[str, Any] | None = None


def count_slack(count: int, limit: int) -> int:
    """Rows a list may grow by while it is being read: one page plus a tenth of the count."""
    return limit + count // 10


def _stable_id(value: Any) -> Hashable | None:
    """A row id usable for "seen before" checks: ints and non-empty strings only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value):
        return value
    return None


def walk_pages(
    fetch: Callable[[PageToken | None], Page],
    *,
    peer: str,
    path: str,
    limit: int,
    start: PageToken | None,
    ordered: bool,
    identity: Callable[[Any], Any] | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_rows: int | None = None,
) -> Iterator[Page]:
    """Yield the non-empty pages of one list, enforcing the rules of this module.

    ``fetch(token)`` asks for the page starting at ``token`` (``start`` first, then each
    page's ``next``). ``ordered`` tokens are integers that must grow (offsets, page
    numbers); other tokens are opaque cursors that must never come back. ``identity(row)``
    gives a row's id (``pk``, ``id``...) to spot a page served twice; rows without a usable
    id are not checked.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if not 1 <= max_pages <= MAX_PAGES_BOUND:
        raise ValueError(f"max_pages must be between 1 and {MAX_PAGES_BOUND}")
    if ordered and not isinstance(start, int):
        raise ValueError("an ordered walk starts at an integer offset or page number")

    def fail(reason: str, message: str) -> PagingError:
        return PagingError(message, peer=peer, reason=reason, path=path)

    token: PageToken | None = start
    cursors: set[PageToken | None] = {start}
    first_ids: set[Hashable] = set()
    bound = max_rows
    rows_seen = 0
    pages = 0
    while True:
        page = fetch(token)
        pages += 1
        rows = page.rows
        if len(rows) > limit:
            raise fail("too_many_rows", f"a page of {len(rows)} rows, asked for at most {limit}")
        if not rows:
            if page.next is not None:
                logger.warning(
                    "%s GET %s: page %d is empty but names a next page; read as the end of "
                    "the list",
                    peer,
                    path,
                    pages,
                    extra={"peer": peer, "path": path, "reason": "empty_page"},
                )
            return
        if pages == 1 and page.count is not None and page.count >= 0:
            announced = page.count + count_slack(page.count, limit)
            bound = announced if bound is None else min(bound, announced)
        if identity is not None:
            first = _stable_id(identity(rows[0]))
            if first is not None:
                if first in first_ids:  # the id itself stays out of the message: it is data
                    raise fail(
                        "page_repeated",
                        f"page {pages} starts with a row an earlier page started with; the "
                        "peer ignores the page it was asked for",
                    )
                first_ids.add(first)
        if bound is not None and rows_seen + len(rows) > bound:
            raise fail(
                "past_count",
                f"more than {bound} rows (the count announced plus slack); the list does not end",
            )
        rows_seen += len(rows)
        yield page
        following = page.next
        if following is None:
            return
        if ordered:
            if (
                isinstance(following, bool)
                or not isinstance(following, int)
                or not isinstance(token, int)
                or following <= token
            ):
                raise fail(
                    "not_forward",
                    f"next page at {following!r} does not move forward from {token!r}",
                )
        else:
            if isinstance(following, bool) or not isinstance(following, int | str):
                raise fail("bad_token", f"a cursor of type {type(following).__name__}")
            if following in cursors or following == "":
                raise fail("cursor_repeated", "the peer gave a cursor it had already given")
            cursors.add(following)
        if pages >= max_pages:
            raise fail(
                "page_cap",
                f"still more pages after {max_pages} (HTTP_MAX_PAGES); raise the cap only if "
                "the list is really that long",
            )
        token = following
