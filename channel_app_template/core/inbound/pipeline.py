"""Pages of inbound work that overlap: the next page is looked up and created while the
previous one is mapped.

An inbound page has a concurrent part (look-ups and creates, on the port's pool), a
closing part that must stay one page at a time (its mapping batch: Omnitron holds one
committed batch per content type) and an acknowledgement on the marketplace, which must
come after the mappings and on the caller's thread (a marketplace client belongs to one
thread). Waiting for all of that before starting the next page leaves the pool idle for
several round trips per page. :class:`PagePipeline` instead runs the closing parts in
order on one thread of their own, hands each page's follow-up (the acknowledgement) back
to the caller's thread between pages, and bounds the items in flight (admitted, not yet
followed up) so memory and the unacknowledged window stay bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["FollowUp", "PagePipeline"]

FollowUp = Callable[[], None]
"""What a page still does on the caller's thread once its closing part ended."""


class PagePipeline:
    """At most ``limit`` items in flight; closing parts run in order, one at a time, and
    follow-ups run in the same order on the thread that admits pages.

    Used from one thread only (the flow's). With ``overlap`` False (a port whose pool
    threads share the caller's client) a page is closed and followed up at once.
    """

    def __init__(self, limit: int, *, overlap: bool) -> None:
        if limit < 1:
            raise ValueError("at least one item must be allowed in flight")
        self.limit = limit
        self._closer = (
            ThreadPoolExecutor(1, thread_name_prefix="inbound-close") if overlap else None
        )
        self._pending: deque[tuple[int, Future[FollowUp | None]]] = deque()
        self._flying = 0

    @property
    def in_flight(self) -> int:
        return self._flying

    def admit(self, items: int) -> None:
        """Follow up the pages that are closed, then wait (following up) until ``items``
        more may be in flight; raises what a closing part raised."""
        if items > self.limit:
            raise ValueError(f"{items} items exceed the {self.limit} allowed in flight")
        while self._pending and self._pending[0][1].done():
            self._follow_up()
        while self._flying + items > self.limit:
            self._follow_up()
        self._flying += items

    def close(self, items: int, work: Callable[[], FollowUp | None]) -> None:
        """Run ``work`` (the page's closing part) after the pages before it, then its
        follow-up on this thread; the page's ``items`` leave the flight after both."""
        if self._closer is None:
            self._pending.append((items, _done(work)))
            self._follow_up()
            return
        self._pending.append((items, self._closer.submit(work)))

    def drain(self) -> None:
        """Close and follow up every page; raise the first error among them (the later
        pages are still followed up: their orders are mapped and may be acknowledged)."""
        first: BaseException | None = None
        while self._pending:
            try:
                self._follow_up()
            except BaseException as error:
                first = first or error
        if self._closer is not None:
            self._closer.shutdown(wait=True)
            self._closer = None
        if first is not None:
            raise first

    def _follow_up(self) -> None:
        items, future = self._pending.popleft()
        try:
            follow_up = future.result()
            if follow_up is not None:
                follow_up()
        finally:
            self._flying -= items


def _done(work: Callable[[], FollowUp | None]) -> Future[FollowUp | None]:
    """``work`` run now, as a finished future (the pipeline without a closing thread)."""
    future: Future[FollowUp | None] = Future()
    try:
        future.set_result(work())
    except BaseException as error:
        future.set_exception(error)
    return future
