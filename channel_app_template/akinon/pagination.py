"""Lazy, page-by-page reading of Omnitron lists.

Omnitron lists are DRF pages (``count``/``next``/``previous``/``results``) addressed by
``page`` (1-based) and ``limit``. The incumbent read only the first page of most lists, which
silently capped every run; here a list is read to its last page, but one page at a time, so
memory depends on the page size, never on the catalog size. A bare JSON list is accepted as
the only page, as omnisdk does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from channel_app_template.core.errors import ItemError, NotFoundError, RunError

T = TypeVar("T", bound=BaseModel)

DEFAULT_PAGE_SIZE = 100
MAX_PAGES = 1_000_000  # a server that never says "last page" must not loop us forever

FetchPage = Callable[[Mapping[str, Any]], Any]


def iter_raw_pages(
    fetch: FetchPage,
    params: Mapping[str, Any],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page: int = 1,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the ``results`` of each page until ``next`` is null or a page is empty."""
    if page_size < 1:
        raise ValueError("page_size must be positive")
    page = first_page
    for _ in range(MAX_PAGES):
        data = fetch({**params, "page": page, "limit": page_size})
        if isinstance(data, list):
            if data:
                yield data
            return
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise RunError(f"expected a page of results, got {type(data).__name__}")
        results: list[dict[str, Any]] = data["results"]
        if results:
            yield results
        if not data.get("next") or not results:
            return
        page += 1
    raise RunError(f"gave up after {MAX_PAGES} pages; the server never reported the last one")


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
