"""Reading a pending view by pk, inside a window of pks.

Page numbers shift under a list that shrinks as its objects are committed, so the engine
reads ``sort=id&pk__gt=<last pk read>`` instead: the next page can be read while the
current batch is still in flight, and a :class:`PkWindow` splits one view between workers
that must never send the same object (``pk__gt``/``pk__lte``). The window is also applied
to the rows read, so a server that ignores a filter cannot widen it.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from channel_app_template.akinon.pagination import Page, Paginated
from channel_app_template.core.engine.flows._summary import MAX_PAGE_WALK

__all__ = ["PkCursor", "PkWindow"]


@dataclass(frozen=True)
class PkWindow:
    """The pks ``after < pk <= upto`` (an open end is ``None``)."""

    after: int | None = None
    upto: int | None = None

    def __post_init__(self) -> None:
        if self.after is not None and self.upto is not None and self.after >= self.upto:
            raise ValueError(f"an empty pk window: after={self.after} upto={self.upto}")

    def holds(self, pk: int) -> bool:
        return (self.after is None or pk > self.after) and (self.upto is None or pk <= self.upto)


class PkCursor:
    """Hands out the pages of ``pending`` in pk order, each once, within ``window``."""

    def __init__(self, pending: Paginated[Any], limit: int, window: PkWindow | None) -> None:
        self._pending = pending
        self._limit = limit
        self._window = window or PkWindow()
        self._after = self._window.after
        self._number = 1  # > 1 only while pages without a readable pk are stepped over
        self._done = False
        self._next: Future[Page[Any] | None] | None = None

    def query(self) -> Paginated[Any]:
        """The view narrowed to what is still ahead of the cursor."""
        params: dict[str, Any] = {"sort": "id"}
        if self._after is not None:
            params["pk__gt"] = self._after
        if self._window.upto is not None:
            params["pk__lte"] = self._window.upto
        return self._pending.filtered(**params)

    def next_page(self) -> Page[Any] | None:
        """The next page (``None`` at the end); its ``size`` is what the server sent, so
        a full page tells the caller there may be more."""
        if self._next is not None:
            ahead, self._next = self._next, None
            return ahead.result()
        return self._read()

    def prefetch(self, pool: Executor) -> None:
        """Start reading the page after the one last handed out, on ``pool``: its pks
        follow that page's, so it is known before that page is sent, and the next
        :meth:`next_page` does not wait a round trip. One caller at a time."""
        if self._next is None and not self._done:
            self._next = pool.submit(self._read)

    def close(self) -> None:
        """Wait for a page being read ahead (a stopped run leaves nothing running); the
        page stays the next one handed out."""
        if self._next is not None:
            wait([self._next])

    def _read(self) -> Page[Any] | None:
        upto = self._window.upto
        reached = upto is not None and self._after is not None and self._after >= upto
        if self._done or reached or self._number > MAX_PAGE_WALK:
            return None
        raw = self.query().read_page(self._number)
        if raw.size < self._limit:
            self._done = True
        if not raw.size:
            return None
        ahead = PkWindow(self._after, upto)
        page: Page[Any] = Page(
            items=[o for o in raw.items if o.pk is None or ahead.holds(int(o.pk))],
            unreadable=[r for r in raw.unreadable if r.pk is None or ahead.holds(r.pk)],
        )
        pks = [int(o.pk) for o in page.items if o.pk is not None]
        pks += [r.pk for r in page.unreadable if r.pk is not None]
        if pks:
            self._after, self._number = max(pks), 1
        else:  # nothing to move the cursor past: step over this page as page numbers did
            self._number += 1
        return page
