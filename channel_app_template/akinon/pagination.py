"""Lazy, page-by-page reading of Omnitron lists, one row at a time.

Omnitron lists are DRF pages (``count``/``next``/``previous``/``results``) addressed by
``page`` (1-based) and ``limit``. The incumbent read only the first page of most lists, which
silently capped every run; here a list is read to its last page, but one page at a time, so
memory depends on the page size, never on the catalog size. A bare JSON list is accepted as
the only page, as omnisdk does (it is not paged, so only the answer-size cap bounds it).

The walk is the framework's one paging helper
(:func:`~channel_app_template.transport.walk_pages`): it stops on an empty page, refuses
a page longer than ``limit`` or one served twice (a server ignoring ``page`` repeats its
first ``pk``), never reads past the ``count`` announced (plus slack) nor more than
``HTTP_MAX_PAGES`` pages, and raises :class:`~channel_app_template.transport.PagingError`
naming Omnitron and the path.

Each row is parsed on its own: a row that does not fit its model is an :class:`Unreadable`
(its pk when that much is readable, the names of the fields that failed, never their
values), not an error for the whole page. Callers that must act on such rows (the catalog
engine fails them in its batch) read :class:`Page` objects; every other reader gets the
valid objects and the unreadable rows go to the query's ``on_unreadable`` hook.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from channel_app_template.errors import ItemError, NotFoundError, RunError
from channel_app_template.transport import (
    DEFAULT_MAX_PAGES,
    Page as RawPage,
    PageToken,
    UnexpectedAnswer,
    walk_pages,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGES",
    "Page",
    "Paginated",
    "Unreadable",
    "UnreadableHook",
    "chunked",
    "iter_raw_pages",
    "read_row",
    "read_rows",
]

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

DEFAULT_PAGE_SIZE = 100
MAX_PAGES = DEFAULT_MAX_PAGES  # a server that never says "last page" must not loop us forever
PEER = "Omnitron"

FetchPage = Callable[[Mapping[str, Any]], Any]


def chunked(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``values`` in lists of ``size`` (the last one shorter): pages of any iterable."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _row_pk(row: Any) -> int | None:
    """A row's pk when it is a real one (a positive int): a malformed row proves nothing."""
    pk = row.get("pk") if isinstance(row, dict) else None
    return pk if isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 else None


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

    def envelope(data: Any) -> RawPage:
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
        return RawPage(
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

    def one_page(token: PageToken | None) -> RawPage:
        data = pending.pop() if pending else fetch({**params, "page": token, "limit": page_size})
        page = envelope(data)
        more = page.next is not None and isinstance(token, int)
        return RawPage(
            page.rows, token + 1 if more and isinstance(token, int) else None, page.count
        )

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


MAX_FAILED_FIELDS = 5  # field names named per unreadable row


@dataclass(frozen=True)
class Unreadable:
    """A row Omnitron sent that does not fit its model.

    ``pk`` is the row's ``pk`` (or ``id``) when that is an integer, ``modified_date`` its
    date when that is a string, ``fields`` the failed fields as ``name (error type)``, and
    ``fingerprint`` a hash of the whole row: it tells "the same bad row again" from "the
    row changed" without keeping any of its values.
    """

    model: str  # the model class name, e.g. "Product"
    content_type: str | None  # Omnitron's content type of the row, when known
    pk: int | None
    modified_date: str | None
    fields: tuple[str, ...]
    fingerprint: str
    source: str = ""  # the path it was read from

    def describe(self) -> str:
        """One line for logs and error reports: names only, never values."""
        what = self.content_type or self.model
        fields = ", ".join(self.fields) or "not an object"
        where = f" from {self.source}" if self.source else ""
        return f"Omnitron sent a {what} row we cannot read{where} ({fields})"


UnreadableHook = Callable[[Unreadable], None]


@dataclass
class Page(Generic[T]):
    """One page: the rows that parsed, and those that did not, in the order they came."""

    items: list[T] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many rows the page had (a full page means there may be more)."""
        return len(self.items) + len(self.unreadable)


def read_row(
    model: type[T], row: Any, source: str = "", *, require_pk: bool = True
) -> T | Unreadable:
    """``row`` as a ``model``, or an :class:`Unreadable` saying why it is not one (a listed
    row without a pk is one: there is no object to act on)."""
    try:
        parsed = model.model_validate(row)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        fields = tuple(
            f"{'.'.join(map(str, e['loc'])) or '(row)'} ({e['type']})"
            for e in problems[:MAX_FAILED_FIELDS]
        )
    else:
        if not require_pk or getattr(parsed, "pk", 0) is not None:
            return parsed
        fields = ("pk (missing)",)  # a listed object always has one; without it, no object
    return Unreadable(
        model=model.__name__,
        content_type=getattr(model, "omnitron_model", None),
        pk=_lenient_pk(row),
        modified_date=_lenient_text(row, "modified_date"),
        fields=fields,
        fingerprint=_fingerprint(row),
        source=source,
    )


@functools.cache
def _rows_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def read_rows(model: type[T], rows: list[Any]) -> list[T] | None:
    """Every row of a page as a ``model``, validated in one call, or ``None`` when any row
    does not read (then :func:`read_row` tells which, one by one). The same validation as
    row by row, without a Python call per row: a third less CPU on a page of products."""
    try:
        items: list[T] = _rows_of(model).validate_python(rows)
    except ValidationError:
        return None
    if any(getattr(item, "pk", 0) is None for item in items):
        return None
    return items


def _lenient_pk(row: Any) -> int | None:
    if not isinstance(row, dict):
        return None
    for key in ("pk", "id"):
        value = row.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _lenient_text(row: Any, key: str) -> str | None:
    value = row.get(key) if isinstance(row, dict) else None
    return value if isinstance(value, str) else None


def _fingerprint(row: Any) -> str:
    try:
        text = json.dumps(row, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(row)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def log_unreadable(row: Unreadable) -> None:
    """The default hook: a warning with the pk and field names (values never)."""
    logger.warning(
        "%s; skipped",
        row.describe(),
        extra={"model": row.content_type or row.model, "object_pk": row.pk},
    )


class Paginated(Generic[T]):
    """A list query not sent yet: iterate for objects, or :meth:`pages` for lists of them.

    Nothing is requested until iteration starts, and each iteration re-reads from page 1.
    For lists that shrink while you work through them (``inserts``/``updates`` lose objects
    as they are committed in a batch) page numbers shift: read :meth:`read_page` again
    instead of walking forward.

    Rows that do not parse never stop a read: :meth:`read_pages`, :meth:`read_page` and
    :meth:`read_first_page` return them beside the objects; every other method hands them to
    ``on_unreadable`` (by default a warning) and goes on with the rest. :meth:`one` and
    :meth:`first` refuse to guess: an unreadable match is an :class:`ItemError`, never
    "not found".
    """

    def __init__(
        self,
        fetch: FetchPage,
        model: type[T],
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        on_unreadable: UnreadableHook | None = None,
        source: str = "",
    ) -> None:
        self._fetch = fetch
        self._model = model
        self._params = dict(params or {})
        self.page_size = page_size
        self.on_unreadable = on_unreadable or log_unreadable
        self.source = source

    def read_pages(self, first_page: int = 1) -> Iterator[Page[T]]:
        """Every page from ``first_page`` on, each with its objects and unreadable rows."""
        raw_pages = iter_raw_pages(
            self._fetch,
            self._params,
            page_size=self.page_size,
            first_page=first_page,
            path=self.source or None,
        )
        for raw in raw_pages:
            items = read_rows(self._model, raw)
            if items is not None:
                yield Page(items=items)
                continue
            page: Page[T] = Page()
            for row in raw:
                parsed = read_row(self._model, row, self.source)
                if isinstance(parsed, Unreadable):
                    page.unreadable.append(parsed)
                else:
                    page.items.append(parsed)
            yield page

    def read_page(self, number: int) -> Page[T]:
        """Page ``number`` alone (one request); empty past the last page."""
        if number < 1:
            raise ValueError("page numbers start at 1")
        return next(self.read_pages(number), Page())

    def read_first_page(self) -> Page[T]:
        return self.read_page(1)

    def pages(self) -> Iterator[list[T]]:
        for page in self.read_pages():
            for row in page.unreadable:
                self.on_unreadable(row)
            yield page.items

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

    def filtered(self, **params: Any) -> Paginated[T]:
        """The same query narrowed by more parameters (``pk__gt``, ``sort``): a pk cursor
        reads a shrinking list without the page numbers shifting under it."""
        return Paginated(
            self._fetch,
            self._model,
            {**self._params, **params},
            page_size=self.page_size,
            on_unreadable=self.on_unreadable,
            source=self.source,
        )

    def resized(self, page_size: int) -> Paginated[T]:
        """The same query with another page size."""
        return Paginated(
            self._fetch,
            self._model,
            self._params,
            page_size=page_size,
            on_unreadable=self.on_unreadable,
            source=self.source,
        )

    def one(self) -> T:
        """The single match; :class:`NotFoundError` for none, :class:`ItemError` for several
        or for a match that cannot be read."""
        page = self.resized(2).read_first_page()  # two tell "one" from "several"
        filters = ", ".join(sorted(self._params))  # names only: values may be personal data
        name = self._model.__name__
        if page.unreadable:
            raise ItemError(f"{page.unreadable[0].describe()} (filters: {filters})")
        if not page.items:
            raise NotFoundError(f"no {name} matches the filters ({filters})")
        if len(page.items) > 1:
            raise ItemError(f"several {name} objects match ({filters})")
        return page.items[0]

    def first(self) -> T | None:
        """The first match or ``None`` (one request); :class:`ItemError` when the first
        match cannot be read (it exists: ``None`` would be a lie)."""
        page = self.resized(1).read_first_page()
        if page.unreadable:
            filters = ", ".join(sorted(self._params))
            raise ItemError(f"{page.unreadable[0].describe()} (filters: {filters})")
        return page.items[0] if page.items else None
