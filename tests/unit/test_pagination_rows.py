"""Reading Omnitron pages row by row: any malformed row fails only itself (property-based)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from channel_app_template.akinon.models import (
    Attribute,
    AttributeValue,
    CancellationRequest,
    CategoryNode,
    IntegrationAction,
    Order,
    OrderItem,
    Product,
    ProductImage,
    ProductPrice,
    ProductStock,
)
from channel_app_template.akinon.pagination import Paginated, Unreadable
from channel_app_template.errors import ItemError

MARKER = "s3cr3t-VALUE-7f"  # planted in bad values: must never reach a message

GOOD: dict[type[Any], dict[str, Any]] = {
    Product: {
        "sku": "A-1",
        "attributes": {"color": "red"},
        "modified_date": "2024-01-01T00:00:00Z",
    },
    ProductStock: {"product": 3, "stock": 5, "extra_field": {}},
    ProductPrice: {"product": 3, "price": "10.50", "extra_field": {}},
    ProductImage: {"product": 3, "image": "/a.jpg", "order": 1, "is_active": True},
    IntegrationAction: {"object_id": 3, "remote_id": "r-3", "status": "success", "state": {}},
    Order: {"number": "N-1", "amount": "12.00", "extra_field": {}},
    OrderItem: {"order": 1, "price": "1.00", "extra_field": {}},
    CancellationRequest: {"order_item": 4, "remote_id": "c-1"},
    CategoryNode: {"name": "Shoes", "depth": 2, "numchild": 0},
    Attribute: {"name": "Color", "channel": 1},
    AttributeValue: {"attribute": 2, "label": "Red", "value": "red"},
}
# Values that no declared field of the models above accepts for the field they replace.
BAD_VALUES = st.sampled_from(
    [
        None,
        [MARKER],
        {"x": MARKER},
        MARKER,
        "1e999",
        True,
        12.5,
    ]
)


def broken(model: type[Any], row: dict[str, Any], field: str, value: Any) -> bool:
    """Whether ``row`` with ``field`` set to ``value`` fails to validate (the test plants
    only values that do; the property is about what happens to the page then)."""
    try:
        model.model_validate({**row, field: value})
    except Exception:
        return True
    return False


def fetch_of(rows: list[Any]) -> Any:
    def fetch(params: Mapping[str, Any]) -> Any:
        page, limit = int(params["page"]), int(params["limit"])
        chunk = rows[(page - 1) * limit : page * limit]
        more = page * limit < len(rows)
        return {"count": len(rows), "next": "more" if more else None, "results": chunk}

    return fetch


@st.composite
def pages(draw: st.DrawFn) -> tuple[type[Any], list[Any], set[int]]:
    """A model, its rows (some corrupted in one or more fields, or not objects at all),
    and the positions of the corrupted ones."""
    model = draw(st.sampled_from(sorted(GOOD, key=lambda m: m.__name__)))
    good = GOOD[model]
    size = draw(st.integers(min_value=1, max_value=25))
    rows: list[Any] = []
    bad: set[int] = set()
    for index in range(size):
        row = {**good, "pk": index + 1}
        if draw(st.booleans()):
            rows.append(row)
            continue
        shape = draw(st.sampled_from(["field", "pk", "not-an-object"]))
        if shape == "not-an-object":
            rows.append(draw(st.sampled_from([MARKER, 7, [row], None])))
            bad.add(index)
            continue
        if shape == "pk":
            row["pk"] = draw(st.sampled_from([MARKER, -1.5, [1], None]))
            row.pop("id", None)
            if row["pk"] is None:
                bad.add(index)  # no pk at all: a listed row without one is no object
            elif broken(model, row, "pk", row["pk"]):
                bad.add(index)
            rows.append(row)
            continue
        field = draw(st.sampled_from(sorted(good)))
        value = draw(BAD_VALUES)
        if broken(model, row, field, value):
            row[field] = value
            bad.add(index)
        rows.append(row)
    return model, rows, bad


@settings(max_examples=300, deadline=None)
@given(pages(), st.integers(min_value=1, max_value=10))
def test_any_malformed_row_fails_only_itself(
    case: tuple[type[Any], list[Any], set[int]], page_size: int
) -> None:
    model, rows, bad = case
    query = Paginated(fetch_of(rows), model, page_size=page_size, source="channel/1/things/")
    read = list(query.read_pages())
    items = [item for page in read for item in page.items]
    unreadable = [row for page in read for row in page.unreadable]
    assert [int(item.pk) for item in items] == [i + 1 for i in range(len(rows)) if i not in bad]
    assert len(unreadable) == len(bad)
    for row, index in zip(unreadable, sorted(bad), strict=True):
        original = rows[index]
        pk = original.get("pk") if isinstance(original, dict) else None
        expected = pk if isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 else None
        assert row.pk == expected
        assert row.fields, "an unreadable row names what failed"
        text = row.describe() + " ".join(row.fields)
        assert MARKER not in text and "1e999" not in text  # names, never values
    # Iterating skips the same rows and hands each to the hook, once.
    met: list[Unreadable] = []
    hooked = Paginated(fetch_of(rows), model, page_size=page_size, on_unreadable=met.append)
    assert [int(item.pk) for item in hooked] == [int(item.pk) for item in items]
    assert [row.fingerprint for row in met] == [row.fingerprint for row in unreadable]


def test_the_fingerprint_follows_the_row_not_its_position() -> None:
    row = {"pk": 5, "attributes": None, "modified_date": "2024-01-01T00:00:00Z"}
    first = Paginated(fetch_of([row]), Product).read_first_page().unreadable[0]
    moved = Paginated(fetch_of([{"pk": 9, "sku": "x"}, row]), Product).read_page(1).unreadable[0]
    changed = {**row, "modified_date": "2024-01-02T00:00:00Z"}
    other = Paginated(fetch_of([changed]), Product).read_first_page().unreadable[0]
    assert first.fingerprint == moved.fingerprint != other.fingerprint
    assert first.pk == 5 and first.modified_date == "2024-01-01T00:00:00Z"
    assert first.content_type == "product" and first.fields == ("attributes (dict_type)",)
    assert json.dumps(row) not in first.describe()


def test_one_and_first_refuse_to_call_an_unreadable_match_missing() -> None:
    bad = {"pk": 5, "attributes": None}
    with pytest.raises(ItemError, match="cannot read"):
        Paginated(fetch_of([bad]), Product).one()
    with pytest.raises(ItemError, match="cannot read"):
        Paginated(fetch_of([bad]), Product).first()
    assert Paginated(fetch_of([]), Product).first() is None


def test_page_walk_reads_one_page_at_a_time() -> None:
    calls: list[int] = []
    rows = [{"pk": i, "sku": f"s{i}"} for i in range(1, 8)]
    fetch = fetch_of(rows)

    def counting(params: Mapping[str, Any]) -> Any:
        calls.append(int(params["page"]))
        return fetch(params)

    query = Paginated(counting, Product, page_size=3)
    assert [p.pk for p in query.read_page(2).items] == [4, 5, 6]
    assert query.read_page(4).size == 0
    assert calls == [2, 4]
