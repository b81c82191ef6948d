"""ORDER_MAX_LINE_QUANTITY and ORDER_MAX_UNITS: bounded at start-up, and what a run uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channel_app_template.core.inbound.orders import OrderOptions
from channel_app_template.order_bounds import DEFAULT_IN_FLIGHT, MAX_LINE_QUANTITY, MAX_ORDER_UNITS
from channel_app_template.settings import Role, Settings, SettingsError, load_settings

FLOWER = "admin:long-enough-password"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no developer .env
    yield


@pytest.mark.parametrize(
    "values",
    [
        {"order_max_line_quantity": "0", "order_max_units": "0"},
        {
            "order_max_line_quantity": str(MAX_LINE_QUANTITY + 1),
            "order_max_units": str(MAX_ORDER_UNITS + 1),
        },
        {"order_max_line_quantity": "lots", "order_max_units": "1e9"},
    ],
)
def test_unit_limits_out_of_bounds_are_refused_at_start_up(values: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.WEB, flower_basic_auth=FLOWER, **values)
    named = " ".join(caught.value.problems)
    assert "ORDER_MAX_LINE_QUANTITY" in named and "ORDER_MAX_UNITS" in named


def test_a_run_uses_the_configured_unit_limits() -> None:
    settings = load_settings(
        Role.WEB, flower_basic_auth=FLOWER, order_max_line_quantity="7", order_max_units="9"
    )
    options = OrderOptions.from_settings(settings, "phone_number")
    assert (options.max_line_quantity, options.max_units) == (7, 9)
    assert options.customer_identifier == "phone_number"
    defaults = OrderOptions.from_settings(
        load_settings(Role.WEB, flower_basic_auth=FLOWER), "email"
    )
    assert (defaults.max_line_quantity, defaults.max_units) == (100, 500)


@pytest.mark.parametrize("value", ["0", "1001", "many"])
def test_orders_in_flight_out_of_bounds_are_refused_at_start_up(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.WEB, flower_basic_auth=FLOWER, order_in_flight=value)
    assert "ORDER_IN_FLIGHT" in " ".join(caught.value.problems)


def test_a_run_uses_the_configured_orders_in_flight() -> None:
    settings = load_settings(Role.WEB, flower_basic_auth=FLOWER, order_in_flight="30")
    assert OrderOptions.from_settings(settings, "email").in_flight == 30
    defaults = load_settings(Role.WEB, flower_basic_auth=FLOWER)
    assert OrderOptions.from_settings(defaults, "email").in_flight == DEFAULT_IN_FLIGHT == 400
