"""How the marketplace's lists are read: which paging style each uses and what a row's id is.

Every list goes through the transport's one paging helper, which refuses a list that does
not end (``PagingError``); this module only says how each of this API's lists is shaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from channel_app_template.channel.reference._transport import MAX_ITEMS_PER_REQUEST
from channel_app_template.transport import HttpClient

__all__ = [
    "NUMBERS_PER_QUERY",
    "PAGE_SIZE",
    "ack_param",
    "batch_body",
    "chunks",
    "cursor_rows",
    "product_pages",
    "row_id",
]

PAGE_SIZE = 1000
# Order numbers per list query: keeps the query string well under server line limits.
NUMBERS_PER_QUERY = 200


def row_id(key: str) -> Callable[[Any], Any]:
    """The identity of a row, for the paging helper's repeated-row check."""
    return lambda row: row.get(key) if isinstance(row, dict) else None


def ack_param(acknowledged: bool | None) -> str:
    """The ``acknowledged`` filter as the API spells it (``None``: either)."""
    return "any" if acknowledged is None else str(acknowledged).lower()


def chunks(values: list[str], size: int) -> list[list[str]]:
    """``values`` in slices of ``size``; one empty slice when there are none (no filter)."""
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


def cursor_rows(
    http: HttpClient, path: str, params: Mapping[str, Any], page_size: int
) -> Iterator[Any]:
    """Every row of a cursor-paged list (orders, events, claims); one page in memory."""
    yield from http.iter_rows(
        path,
        params,
        style="cursor",
        limit=max(1, min(PAGE_SIZE, page_size)),
        count_key=None,
        identity=row_id("id"),
    )


def product_pages(http: HttpClient, params: Mapping[str, Any]) -> Iterator[list[Any]]:
    """The rows of the offset-paged product list, a page at a time."""
    pages = http.iter_pages(
        "/products", params, style="offset", limit=PAGE_SIZE, identity=row_id("product_id")
    )
    for page in pages:
        yield page.rows


def batch_body(http: HttpClient, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A batch's first envelope with **all** its item results joined under ``items``.

    Pages of 1000 are fetched; a batch holds at most 1000 items, so no more are ever kept.
    """
    envelopes: list[dict[str, Any]] = []
    items: list[Any] = []
    for page in http.iter_pages(
        path,
        params,
        style="offset",
        limit=PAGE_SIZE,
        count_key="total_items",
        identity=row_id("index"),
        max_rows=MAX_ITEMS_PER_REQUEST,
        rows_optional=True,  # no items while the batch is processing
        on_envelope=lambda body: None if envelopes else envelopes.append(body),
    ):
        items += page.rows
    return {**envelopes[0], "items": items}
