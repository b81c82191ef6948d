"""The engine's pk window, pk cursor and commit gate, without a server: a pending view is
a list of rows filtered the way Omnitron filters (``pk__gt``, ``pk__lte``, ``sort=id``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from channel_app_template.akinon.models import Product
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.core.engine.flows import PkWindow, local_gate
from channel_app_template.core.engine.flows._cursor import PkCursor


class View:
    """A pending view over ``rows``; ``honours_filters=False`` plays a server that ignores
    the pk filters (it still pages)."""

    def __init__(self, rows: list[dict[str, Any]], *, honours_filters: bool = True) -> None:
        self.rows = rows
        self.honours_filters = honours_filters
        self.asked: list[dict[str, Any]] = []

    def __call__(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self.asked.append(dict(params))
        rows = self.rows
        if self.honours_filters:
            if "pk__gt" in params:
                rows = [
                    r for r in rows if isinstance(r.get("pk"), int) and r["pk"] > params["pk__gt"]
                ]
            if "pk__lte" in params:
                rows = [
                    r for r in rows if isinstance(r.get("pk"), int) and r["pk"] <= params["pk__lte"]
                ]
        limit, page = int(params["limit"]), int(params["page"])
        part = rows[(page - 1) * limit : page * limit]
        more = page * limit < len(rows)
        return {"count": len(rows), "next": "more" if more else None, "results": part}


def product(pk: int) -> dict[str, Any]:
    return {"pk": pk, "sku": f"SKU-{pk}", "modified_date": "2025-01-01T00:00:00Z"}


def walk(cursor: PkCursor) -> list[list[int | None]]:
    pages = []
    while (page := cursor.next_page()) is not None:
        pages.append([o.pk for o in page.items] + [r.pk for r in page.unreadable])
    return pages


def test_the_cursor_reads_each_pk_once_in_pk_order_by_pk_gt() -> None:
    view = View([product(pk) for pk in range(1, 8)])
    pages = walk(PkCursor(Paginated(view, Product, page_size=3), 3, None))
    assert pages == [[1, 2, 3], [4, 5, 6], [7]]
    assert [q.get("pk__gt") for q in view.asked] == [None, 3, 6]
    assert all(q["sort"] == "id" and q["page"] == 1 for q in view.asked)


def test_committed_objects_leaving_the_view_do_not_shift_the_next_page() -> None:
    view = View([product(pk) for pk in range(1, 8)])
    cursor = PkCursor(Paginated(view, Product, page_size=3), 3, None)
    first = cursor.next_page()
    assert first is not None
    view.rows = [r for r in view.rows if r["pk"] > 3]  # the first page was committed
    assert walk(cursor) == [[4, 5, 6], [7]]


def test_a_window_sends_only_after_lt_pk_lte_upto() -> None:
    view = View([product(pk) for pk in range(1, 11)])
    pages = walk(PkCursor(Paginated(view, Product, page_size=4), 4, PkWindow(after=3, upto=8)))
    assert pages == [[4, 5, 6, 7], [8]]
    assert view.asked[0]["pk__gt"] == 3 and view.asked[0]["pk__lte"] == 8


def test_a_server_ignoring_the_filters_cannot_widen_the_window() -> None:
    view = View([product(pk) for pk in range(1, 11)], honours_filters=False)
    pages = walk(PkCursor(Paginated(view, Product, page_size=4), 4, PkWindow(after=3, upto=8)))
    sent = [pk for page in pages for pk in page]
    assert sent == [4, 5, 6, 7, 8]


def test_a_page_without_readable_pks_is_stepped_over() -> None:
    bad = [{"pk": "x", "sku": None} for _ in range(3)]
    view = View([*bad, product(10), product(11)], honours_filters=False)
    pages = walk(PkCursor(Paginated(view, Product, page_size=3), 3, None))
    assert pages[0] == [None, None, None]
    assert [pk for page in pages[1:] for pk in page] == [10, 11]


@pytest.mark.parametrize(("after", "upto"), [(5, 5), (6, 5)])
def test_an_empty_window_is_refused(after: int, upto: int) -> None:
    with pytest.raises(ValueError, match="empty pk window"):
        PkWindow(after=after, upto=upto)


def test_the_local_gate_lets_one_batch_per_model_in_at_a_time() -> None:
    inside = threading.Event()
    release = threading.Event()
    entered: list[str] = []

    def hold() -> None:
        with local_gate("product"):
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)

    def enter(model: str) -> None:
        with local_gate(model):
            entered.append(model)

    other = threading.Thread(target=enter, args=("productprice",))
    same = threading.Thread(target=enter, args=("product",))
    other.start()
    same.start()
    other.join(5)
    assert entered == ["productprice"]  # another model is not held up
    release.set()
    same.join(5)
    holder.join(5)
    assert entered == ["productprice", "product"]


def test_prefetch_reads_the_next_page_before_it_is_asked_for() -> None:
    from concurrent.futures import ThreadPoolExecutor

    view = View([product(pk) for pk in range(1, 8)])
    cursor = PkCursor(Paginated(view, Product, page_size=3), 3, None)
    pages = []
    with ThreadPoolExecutor(1) as pool:
        while (page := cursor.next_page()) is not None:
            cursor.prefetch(pool)
            cursor.close()  # the page after is read now, before next_page asks
            asked = len(view.asked)
            pages.append([o.pk for o in page.items])
            assert asked == len(pages) + (0 if len(pages) == 3 else 1)
    assert pages == [[1, 2, 3], [4, 5, 6], [7]]
    # each page read once, in pk order, and none past the short last page
    assert [q.get("pk__gt") for q in view.asked] == [None, 3, 6]


def test_a_prefetched_page_is_the_same_page_a_plain_read_gives() -> None:
    from concurrent.futures import ThreadPoolExecutor

    rows = [product(pk) for pk in (2, 3, 5, 8, 13, 21, 34)]
    plain = walk(PkCursor(Paginated(View(rows), Product, page_size=2), 2, PkWindow(2, 21)))
    cursor = PkCursor(Paginated(View(rows), Product, page_size=2), 2, PkWindow(2, 21))
    ahead = []
    with ThreadPoolExecutor(1) as pool:
        while (page := cursor.next_page()) is not None:
            cursor.prefetch(pool)
            ahead.append([o.pk for o in page.items] + [r.pk for r in page.unreadable])
        cursor.close()
    assert ahead == plain == [[3, 5], [8, 13], [21]]
