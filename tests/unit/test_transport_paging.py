"""The one paging helper: every rule that ends a walk, and a property over any peer."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from channel_app_template.errors import RunError
from channel_app_template.transport import Page, PageToken, PagingError, count_slack, walk_pages


def rows(first: int, size: int) -> list[dict[str, int]]:
    return [{"pk": first + n} for n in range(size)]


def scripted(pages: list[Page]) -> tuple[Callable[[PageToken | None], Page], list[Any]]:
    """A fetch that serves ``pages`` in order (the last one forever) and records tokens."""
    asked: list[Any] = []

    def fetch(token: PageToken | None) -> Page:
        asked.append(token)
        return pages[min(len(asked), len(pages)) - 1]

    return fetch, asked


def walk(fetch: Callable[[PageToken | None], Page], **kwargs: Any) -> list[list[Any]]:
    options: dict[str, Any] = {
        "peer": "Peer",
        "path": "/things",
        "limit": 2,
        "start": 0,
        "ordered": True,
        "identity": lambda row: row.get("pk"),
    }
    options.update(kwargs)
    return [page.rows for page in walk_pages(fetch, **options)]


def reason_of(call: Callable[[], object]) -> str:
    with pytest.raises(PagingError) as caught:
        call()
    error = caught.value
    assert isinstance(error, RunError)  # a run error, and a paging one in particular
    assert error.peer == "Peer" and error.path == "/things" and "Peer GET /things" in str(error)
    return error.reason


def test_offsets_are_followed_to_the_last_page() -> None:
    fetch, asked = scripted([Page(rows(1, 2), 2), Page(rows(3, 2), 4), Page(rows(5, 1), None)])
    assert walk(fetch) == [rows(1, 2), rows(3, 2), rows(5, 1)]
    assert asked == [0, 2, 4]


def test_an_empty_page_ends_the_walk_even_with_a_next_token() -> None:
    fetch, asked = scripted([Page(rows(1, 2), "c1"), Page([], "c2")])
    assert walk(fetch, start=None, ordered=False) == [rows(1, 2)]
    assert asked == [None, "c1"]


def test_an_empty_page_that_names_a_next_one_is_logged_with_peer_and_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch, _ = scripted([Page(rows(1, 2), "c1"), Page([], "c2")])
    with caplog.at_level("WARNING", logger="channel_app_template.transport"):
        walk(fetch, start=None, ordered=False)
    (record,) = caplog.records
    assert "Peer GET /things: page 2 is empty but names a next page" in record.getMessage()
    caplog.clear()
    fetch, _ = scripted([Page(rows(1, 2), "c1"), Page([], None)])  # a true last page
    with caplog.at_level("WARNING", logger="channel_app_template.transport"):
        walk(fetch, start=None, ordered=False)
    assert caplog.records == []


def test_an_offset_that_does_not_move_forward_is_refused() -> None:
    fetch, asked = scripted([Page(rows(1, 2), 0)])  # "next_offset: 0" forever
    assert reason_of(lambda: walk(fetch, identity=None)) == "not_forward"
    assert len(asked) == 1
    fetch, _ = scripted([Page(rows(1, 2), 2), Page(rows(3, 2), 1)])
    assert reason_of(lambda: walk(fetch, identity=None)) == "not_forward"
    fetch, _ = scripted([Page(rows(1, 2), "2")])
    assert reason_of(lambda: walk(fetch)) == "not_forward"


def test_a_cursor_given_twice_is_refused_whatever_the_loop_length() -> None:
    fetch, asked = scripted([Page(rows(1, 2), "a"), Page(rows(3, 2), "a")])
    assert reason_of(lambda: walk(fetch, start=None, ordered=False)) == "cursor_repeated"
    assert asked == [None, "a"]
    loop = [Page(rows(1, 1), "a"), Page(rows(2, 1), "b"), Page(rows(3, 1), "c")]
    fetch, _ = scripted([*loop, Page(rows(4, 1), "a")])
    assert reason_of(lambda: walk(fetch, start=None, ordered=False)) == "cursor_repeated"
    fetch, _ = scripted([Page(rows(1, 1), ["not", "a", "cursor"])])  # type: ignore[arg-type]
    assert reason_of(lambda: walk(fetch, start=None, ordered=False)) == "bad_token"


def test_a_page_served_twice_is_refused() -> None:
    """A peer ignoring ``page`` serves page 1 again: its first ``pk`` comes back."""
    fetch, asked = scripted([Page(rows(1, 2), 2)] * 3)
    assert reason_of(lambda: walk(fetch, start=1, limit=2)) == "page_repeated"
    assert len(asked) == 2


def test_a_page_longer_than_the_limit_is_refused() -> None:
    fetch, _ = scripted([Page(rows(1, 3), None)])
    assert reason_of(lambda: walk(fetch, limit=2)) == "too_many_rows"


def test_rows_past_the_announced_count_and_slack_are_refused() -> None:
    count, limit = 4, 2
    bound = count + count_slack(count, limit)
    pages = [Page(rows(n * 2 + 1, 2), n * 2 + 2, count) for n in range(100)]
    fetch, _ = scripted(pages)
    seen: list[Any] = []

    def consume() -> None:
        for page in walk_pages(
            fetch, peer="Peer", path="/things", limit=limit, start=0, ordered=True
        ):
            seen.extend(page.rows)

    assert reason_of(consume) == "past_count"
    assert len(seen) <= bound


def test_max_rows_is_a_hard_bound_without_a_count() -> None:
    fetch, _ = scripted([Page(rows(n * 2 + 1, 2), n * 2 + 2) for n in range(10)])
    assert reason_of(lambda: walk(fetch, max_rows=5)) == "past_count"


def test_the_page_cap_ends_a_list_that_never_ends() -> None:
    counter = itertools.count()

    def endless(token: PageToken | None) -> Page:
        n = next(counter)
        return Page(rows(n * 2, 2), f"c{n}")

    assert reason_of(lambda: walk(endless, start=None, ordered=False, max_pages=7)) == "page_cap"
    assert next(counter) == 7


def test_bad_arguments_are_refused() -> None:
    fetch, _ = scripted([Page([])])
    with pytest.raises(ValueError):
        walk(fetch, limit=0)
    with pytest.raises(ValueError):
        walk(fetch, max_pages=0)
    with pytest.raises(ValueError):
        walk(fetch, start=None, ordered=True)


# A page as a hostile or broken peer may send it.
token_st = st.one_of(
    st.none(), st.integers(-3, 12), st.sampled_from(["a", "b", "c", ""]), st.booleans()
)
page_st = st.builds(
    lambda size, first, following, count: Page(
        [{"pk": first + n} if first >= 0 else {"no": "pk"} for n in range(size)], following, count
    ),
    st.integers(0, 6),
    st.integers(-1, 8),
    token_st,
    st.one_of(st.none(), st.integers(-1, 20)),
)


@settings(max_examples=300, deadline=None)
@given(
    pages=st.lists(page_st, min_size=1, max_size=12),
    ordered=st.booleans(),
    limit=st.integers(1, 5),
    max_pages=st.integers(1, 15),
)
def test_any_sequence_of_pages_ends_within_the_bounds(
    pages: list[Page], ordered: bool, limit: int, max_pages: int
) -> None:
    """Whatever the peer sends (the script repeats forever), the walk ends, fetches at most
    ``max_pages`` pages, yields no page over ``limit`` and no more rows than the first
    page's ``count`` plus slack."""
    fetched = 0

    def fetch(token: PageToken | None) -> Page:
        nonlocal fetched
        fetched += 1
        return pages[(fetched - 1) % len(pages)]

    yielded = 0
    try:
        for page in walk_pages(
            fetch,
            peer="Peer",
            path="/p",
            limit=limit,
            start=0 if ordered else None,
            ordered=ordered,
            identity=lambda row: row.get("pk"),
            max_pages=max_pages,
        ):
            assert 0 < len(page.rows) <= limit
            yielded += len(page.rows)
    except PagingError as error:
        assert error.reason in {
            "too_many_rows",
            "not_forward",
            "bad_token",
            "cursor_repeated",
            "page_repeated",
            "past_count",
            "page_cap",
        }
    assert fetched <= max_pages
    first_count = pages[0].count
    if first_count is not None and first_count >= 0 and pages[0].rows:
        assert yielded <= first_count + count_slack(first_count, limit)
