"""The beat schedule: sensible defaults, env overrides, and clear errors."""

from __future__ import annotations

import json

import pytest
from celery.schedules import crontab

from channel_app_template.processes import startup_checks
from channel_app_template.schedule import DEFAULT_SCHEDULE, PREFIX, ScheduleError, beat_schedule
from channel_app_template.settings import Role, SettingsError, load_settings


def test_defaults_cover_every_flow_but_manual_ones() -> None:
    schedule = beat_schedule(None)
    assert set(schedule) == set(DEFAULT_SCHEDULE)
    assert "update_products" not in schedule  # insert_and_update_products covers it
    products = schedule["insert_and_update_products"]
    assert products["task"] == PREFIX + "insert_and_update_products"
    assert products["schedule"] == 300.0 and products["options"]["expires"] == 300.0
    assert isinstance(schedule["create_or_update_category_tree_and_nodes"]["schedule"], crontab)


def test_overrides_change_disable_and_add() -> None:
    raw = json.dumps(
        {"check_products": 10, "delete_products": None, "update_stocks": "*/5 * * * *"}
    )
    schedule = beat_schedule(raw)
    assert schedule["check_products"]["schedule"] == 10.0
    assert "delete_products" not in schedule
    assert isinstance(schedule["update_stocks"]["schedule"], crontab)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"no_such_task": 5}', "unknown task 'no_such_task'"),
        ('{"check_products": 0}', "check_products must be"),
        ('{"check_products": "every minute"}', "check_products must be"),
        ('{"check_products": true}', "check_products must be"),
    ],
)
def test_bad_overrides_are_named(raw: str, expected: str) -> None:
    with pytest.raises(ScheduleError, match=expected):
        beat_schedule(raw)


def test_beat_refuses_to_start_with_a_bad_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEAT_SCHEDULE", '{"nope": 1, "check_stocks": -1}')
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.BEAT, startup_checks(Role.BEAT))
    assert len(caught.value.problems) == 2
