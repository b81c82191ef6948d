"""Which modified_date values the engine may record as a version_date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from channel_app_template.akinon.dates import date_problem, parse_date

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-01T11:59:59.123456Z",
        "2025-06-01T12:09:00+00:00",  # 9 minutes ahead: within the tolerance
        "2025-06-01 11:00:00",  # the other format Omnitron uses; naive means UTC
        "2025-06-01T14:00:00+02:00",  # an offset: 12:00 UTC
        "1999-01-01T00:00:00Z",  # old is fine: every later edit is newer
    ],
)
def test_sane_dates_may_be_recorded(value: str) -> None:
    assert date_problem(value, now=NOW, tolerance=600) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "no modified_date"),
        ("", "no modified_date"),
        ("not-a-date", "not a date"),
        ("2025-13-01T00:00:00Z", "not a date"),
        ("x" * 10_000, "not a date"),
        ("2099-01-01T00:00:00.000000Z", "ahead of this app's clock"),
        ("2025-06-01T12:10:01Z", "ahead of this app's clock"),  # 601 s ahead
    ],
)
def test_missing_unparseable_or_future_dates_are_refused(value: str | None, why: str) -> None:
    problem = date_problem(value, now=NOW, tolerance=600)
    assert problem is not None and why in problem


@given(st.text(max_size=80))
def test_any_text_is_either_a_date_or_a_clear_problem(value: str) -> None:
    problem = date_problem(value, now=NOW, tolerance=600)
    parsed = parse_date(value)
    assert (problem is None) == (parsed is not None and (parsed - NOW).total_seconds() <= 600)
