"""Categories are written side by side in windows; two of one remote id never share one
(they share an attribute set, which they would otherwise both create)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from channel_app_template.channel import CategoryDto
from channel_app_template.core.setup.attributes import Category, _windows


def fetched(remote_ids: list[str]) -> list[tuple[Category, CategoryDto]]:
    return [
        (Category(node=n, remote_id=rid, action=n), CategoryDto(remote_id=rid, name=rid))
        for n, rid in enumerate(remote_ids, start=1)
    ]


@given(st.lists(st.sampled_from("abcdef"), max_size=40), st.integers(1, 8))
def test_every_category_once_no_remote_id_twice_in_a_window(ids: list[str], size: int) -> None:
    items = fetched(ids)
    windows = list(_windows(items, size))
    written = [category.node for window in windows for category, _ in window]
    assert sorted(written) == [category.node for category, _ in items]
    for window in windows:
        assert 1 <= len(window) <= size
        remote_ids = [category.remote_id for category, _ in window]
        assert len(remote_ids) == len(set(remote_ids))


def test_categories_of_one_remote_id_go_in_separate_windows_in_order() -> None:
    windows = list(_windows(fetched(["a", "b", "a", "c", "a"]), 8))
    assert [[c.node for c, _ in window] for window in windows] == [[1, 2, 4], [3], [5]]
