"""``.env`` is read by honcho (for ``honcho start``) and by the app (python-dotenv, through
pydantic-settings and ``channel-app dev``): the example and the documented form must mean
the same thing to both."""

from __future__ import annotations

import io

import pytest
from dotenv import dotenv_values
from honcho.environ import parse as honcho_parse

from channel_app_template.schedule import parse_overrides
from tests.support.processes import REPO_ROOT

EXAMPLE = (REPO_ROOT / ".env.example").read_text()


def both(text: str) -> tuple[dict[str, str], dict[str, str | None]]:
    return honcho_parse(text), dict(dotenv_values(stream=io.StringIO(text)))


def test_honcho_and_the_app_read_env_example_alike() -> None:
    by_honcho, by_app = both(EXAMPLE)
    assert by_honcho == by_app
    assigned = [line for line in EXAMPLE.splitlines() if line.strip() and not line.startswith("#")]
    assert len(by_app) == len(assigned)  # every line read, by both


def test_env_example_schedule_is_valid_json_for_both() -> None:
    by_honcho, by_app = both(EXAMPLE)
    assert by_honcho["BEAT_SCHEDULE"] == by_app["BEAT_SCHEDULE"]
    assert parse_overrides(by_honcho["BEAT_SCHEDULE"])  # not mangled into non-JSON


@pytest.mark.parametrize(
    "value",
    [
        '{"fetch_orders": 30, "delete_products": null, "update_stocks": "*/5 * * * *"}',
        "pa$$word#1",
        "admin:s3cret with spaces",
        '"quoted"',
        "",
    ],
)
def test_single_quoted_values_mean_the_same_to_both(value: str) -> None:
    line = f"SETTING='{value}'\n"
    assert both(line) == ({"SETTING": value}, {"SETTING": value})


def test_the_form_the_example_avoids_is_read_differently() -> None:
    """Why the rule exists: unquoted or double-quoted JSON loses its quotes in honcho."""
    by_honcho, by_app = both('BEAT_SCHEDULE={"fetch_orders": 30, "x": "*/5 * * * *"}\n')
    assert by_honcho != by_app
    by_honcho, by_app = both("PATHS='C:\\temp'\n")  # and honcho expands \t even in quotes
    assert by_honcho != by_app
