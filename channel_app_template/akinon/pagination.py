"""Lazy, page-by-page reading of Omnitron lists.

Omnitron lists are DRF pages (``count``/``next``/``previous``/``results``) addressed by
``page`` (1-based) and ``limit``. The incumbent read only the first page of most lists, which
silently capped every run; here a list is read to its last page, but one page at a time, so
memory depends on the page size, never on the catalog size. A bare JSON list is accepted as
the only page, as omnisdk does (it is not paged, so only the answer-size cap bounds it).

The walk is the framework's one paging helper
(:func:`~channel_app_template.core.paging.walk_pages`): it stops on an empty page, refuses
a page longer than ``limit`` or one served twice (a server ignoring ``page`` repeats its
first ``pk``), never reads past the ``count`` announced (plus slack) nor more than
``HTTP_MAX_PAGES`` pages, and raises :class:`~channel_app_template.core.paging.PagingError`
naming Omnitron and the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from channel_app_template.core.errors import ItemError, NotFoundError, RunError
from channel_app_template.core.http import UnexpectedAnswer
from channel_app_template.core.paging import DEFAULT_MAX_PAGES, Page, PageToken, walk_pages

T = TypeVar("T", bound=BaseModel)

DEFAULT_PAGE_SIZE = 100
MAX_PAGES = DEFAULT_MAX_PAGES  # a server that never says "last page" must not loop us forever
PEER = "Omnitron"

FetchPage = Callable[[Mapping[str, Any]], Any]


def _row_pk(row: Any) -> Any:
    return row.get("pk") if isinstance(row, dict) else None


def iter_raw_pages(
    fetch: FetchPage,
    params: Mapping[str, Any],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page: int = 1,
    max_pages: int | None = None,
    path: str | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the ``results`` of each page until ``next`` is null or a page is empty.

    ``path`` names the list in errors (default: the ``path`` attribute of ``fetch``, as
    :class:`ListFetch` has); ``max_pages`` defaults to the client's ``HTTP_MAX_PAGES``
    when ``fetch`` carries one, else :data:`MAX_PAGES`.
    """
    if page_size < 1:
        raise ValueError("page_size must be positive")
    where = path or getattr(fetch, "path", None) or "an Omnitron list"
    cap = max_pages or getattr(fetch, "max_pages", None) or MAX_PAGES

    def envelope(data: Any) -> Page:
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(results, list):
            got = "nothing" if data is None else f"a {type(data).__name__}"
            if isinstance(data, dict):
                got = "an object without a 'results' list"
            raise UnexpectedAnswer(
                f"{PEER} GET {where}: expected a page of results, got {got}",
                peer=PEER,
                method="GET",
                path=where,
            )
        count = data.get("count")
        return Page(
            results,
            "more" if data.get("next") else None,
            count if isinstance(count, int) and not isinstance(count, bool) else None,
        )

    first = fetch({**params, "page": first_page, "limit": page_size})
    if isinstance(first, list):  # an unpaged list: the only page
        if first:
            yield first
        return
    pending: list[Any] = [first]

    def one_page(token: PageToken | None) -> Page:
        data = pending.pop() if pending else fetch({**params, "page": token, "limit": page_size})
        page = envelope(data)
        more = page.next is not None and isinstance(token, int)
        return Page(page.rows, token + 1 if more and isinstance(token, int) else None, page.count)

    pages = walk_pages(
        one_page,
        peer=PEER,
        path=where,
        limit=page_size,
        start=first_page,
        ordered=True,
        identity=_row_pk,
        max_pages=cap,
    )
    for page in pages:
        yield page.rows


class ListFetch:
    """One Omnitron list endpoint as a :data:`FetchPage`; ``path`` and the client's page cap
    ride along for :func:`iter_raw_pages`."""

    def __init__(
        self, get: Callable[[str, Mapping[str, Any]], Any], path: str, max_pages: int
    ) -> None:
        self._get = get
        self.path = path
        self.max_pages = max_pages

    def __call__(self, params: Mapping[str, Any]) -> Any:
        return self._get(self.path, params)


class Paginated(Generic[T]):
    """A list query not sent yet: iterate for objects, or :meth:`pages` for lists of them.

    Nothing is requested until iteration starts, and each iteration re-reads from page 1.
    For lists that shrink while you work through them (``inserts``/``updates`` lose objects
    as they are committed in a batch) page numbers shift: read :meth:`first_page` again
    instead of walking forward.
    """

    def __init__(
        self,
        fetch: FetchPage,
        model: type[T],
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self._fetch = fetch
        self._model = model
        self._params = dict(params or {})
        self.page_size = page_size

    def pages(self) -> Iterator[list[T]]:
        for raw in iter_raw_pages(self._fetch, self._params, page_size=self.page_size):
            yield [self._validate(item) for item in raw]

    def _validate(self, item: Any) -> T:
        try:
            return self._model.model_validate(item)
        except ValidationError as error:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors()[:5])
            name = self._model.__name__
            raise RunError(f"Omnitron sent a {name} we cannot read ({fields})") from None

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page

    def count(self) -> int:
        """How many objects match (one request for one object: ``count`` of the envelope)."""
        data = self._fetch({**self._params, "page": 1, "limit": 1})
        if isinstance(data, list):
            return len(data)
        if not isinstance(data, dict) or not isinstance(data.get("count"), int):
            raise RunError("expected a page with a count")
        return int(data["count"])

    def first_page(self) -> list[T]:
        """Only the first ``page_size`` objects (one request)."""
        return next(self.pages(), [])

    def resized(self, page_size: int) -> Paginated[T]:
        """The same query with another page size."""
        return Paginated(self._fetch, self._model, self._params, page_size=page_size)

    def one(self) -> T:
        """The single match; :class:`NotFoundError` for none, :class:`ItemError` for several."""
        found = self.resized(2).first_page()  # two tell "one" from "several" in one request
        filters = ", ".join(sorted(self._params))  # names only: values may be personal data
        if not found:
            raise NotFoundError(f"no {self._model.__name__} matches the filters ({filters})")
        if len(found) > 1:
            raise ItemError(f"several {self._model.__name__} objects match ({filters})")
        return found[0]

    def first(self) -> T | None:
        """The first match or ``None`` (one request)."""
        found = self.resized(1).first_page()
        return found[0] if found else None
