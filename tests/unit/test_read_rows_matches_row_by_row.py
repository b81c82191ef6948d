"""A page read in one validation call gives exactly what reading it row by row gives; a
page with one row that does not read is left to the row-by-row path (``None``)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from channel_app_template.akinon.models import IntegrationAction, Product, ProductStock
from channel_app_template.akinon.pagination import Unreadable, read_row, read_rows

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
)
text = st.text(max_size=6)
plausible = {
    "name": text,
    "sku": text,
    "modified_date": text,
    "remote_id": text,
    "product": st.integers(1, 99),
    "stock": st.integers(0, 99),
    "attributes": st.dictionaries(text, text, max_size=2),
}
# rows with a pk and fields of their types, and now and then a row of anything (a wrong
# type, no pk, no object at all): pages of every kind, good ones included


def row_of(field_values: Any) -> Any:
    return st.builds(
        lambda pk, extra: {"pk": pk, **extra},
        st.integers(1, 10**6),
        st.fixed_dictionaries(
            {}, optional={name: field_values(good) for name, good in plausible.items()}
        ),
    )


good_row = row_of(lambda good: good)
any_row = st.one_of(row_of(lambda good: values), st.dictionaries(text, values, max_size=3), values)
rows = st.lists(st.one_of(*[good_row] * 9, any_row), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([Product, ProductStock, IntegrationAction]), rows)
def test_one_call_reads_a_page_as_row_by_row_does(model: Any, page: list[Any]) -> None:
    one_by_one = [read_row(model, row) for row in page]
    together = read_rows(model, page)
    if any(isinstance(row, Unreadable) for row in one_by_one):
        assert together is None
    else:
        assert together is not None
        assert [item.model_dump() for item in together] == [
            item.model_dump() for item in one_by_one if not isinstance(item, Unreadable)
        ]


def test_a_page_of_good_rows_is_read_in_one_call() -> None:
    page = [{"pk": n, "sku": f"S{n}", "modified_date": "2026-12-07T10:00:00Z"} for n in (1, 2)]
    items = read_rows(Product, page)
    assert items is not None and [item.sku for item in items] == ["S1", "S2"]
    assert [item.id for item in items] == [1, 2]  # the model's own validators ran
