"""The web process's limits: every one bounded and finite, all bad ones listed at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channel_app_template.api.login import LoginLimits
from channel_app_template.api.server import ServerLimits
from channel_app_template.api.waits import WaitLimits
from channel_app_template.settings import Role, Settings, SettingsError, load_settings

FLOWER = "admin:a-long-password"

LIMITS = {
    "web_header_timeout": ["0", "-1", "inf", "nan", "301", "soon"],
    "web_body_timeout": ["0", "inf", "3601"],
    "web_keep_alive_timeout": ["0", "nan", "301"],
    "web_max_connections": ["0", "100001", "1.5"],
    "web_max_header_bytes": ["1023", "1048577"],
    "login_failures_per_address": ["0", "10001"],
    "login_failures_per_user": ["0", "100001"],
    "login_failure_window": ["0.5", "86401", "inf"],
    "login_trusted_for": ["-1", "2592001"],
    "proxy_max_wait": ["0", "601", "1e9", "inf"],
    "proxy_waits_per_user": ["0", "1001"],
    "proxy_max_waits": ["0", "10001"],
    "proxy_flower_waits": ["0", "5"],
    "health_interval": ["0.1", "3601", "nan"],
    "health_timeout": ["0", "61"],
    "proxy_connect_timeout": ["0", "121"],
    "proxy_read_timeout": ["0", "3601", "inf"],
    "proxy_pool_timeout": ["0", "121"],
    "proxy_max_connections": ["0", "10001"],
    "proxy_max_body_bytes": ["0", str(16 * 1024 * 1024 + 1)],
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no developer .env
    yield


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, values in LIMITS.items() for value in values]
)
def test_each_limit_refuses_values_out_of_bounds(field: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.WEB, flower_basic_auth=FLOWER, **{field: value})
    assert [p.split(":")[0] for p in caught.value.problems] == [field.upper()]


def test_every_bad_limit_is_listed_at_once() -> None:
    bad = {field: values[0] for field, values in LIMITS.items()}
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.WEB, flower_basic_auth=FLOWER, **bad)
    assert sorted(p.split(":")[0] for p in caught.value.problems) == sorted(
        f.upper() for f in LIMITS
    )


def test_defaults_are_what_the_modules_assume() -> None:
    settings = load_settings(Role.WEB, flower_basic_auth=FLOWER)
    assert ServerLimits.from_settings(settings) == ServerLimits()
    assert LoginLimits.from_settings(settings) == LoginLimits()
    assert WaitLimits.from_settings(settings) == WaitLimits()
