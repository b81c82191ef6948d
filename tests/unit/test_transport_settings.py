"""The transport's settings: typed, bounded, and reaching every peer's client."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.channel import IntegrationContext
from channel_app_template.channel.reference.integration import (
    ReferenceConfig,
    ReferenceIntegration,
)
from channel_app_template.settings import Role, Settings, SettingsError, load_settings
from channel_app_template.transport import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    Limits,
    Timeouts,
)


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "omnitron_url": "https://omnitron.example.com",
        "omnitron_username": "bot",
        "omnitron_password": SecretStr("pw-123456"),
        "omnitron_channel_id": 4,
        "omnitron_catalog_id": 2,
        "cache_url": SecretStr("redis://127.0.0.1:1/3"),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_defaults_are_the_transport_defaults() -> None:
    loaded = settings()
    assert loaded.http_request_deadline == DEFAULT_DEADLINE == Timeouts().total
    assert loaded.http_max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    assert loaded.http_max_pages == DEFAULT_MAX_PAGES == Limits().max_pages


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTP_REQUEST_DEADLINE", "0"),
        ("HTTP_REQUEST_DEADLINE", "inf"),
        ("HTTP_REQUEST_DEADLINE", "3601"),
        ("HTTP_MAX_RESPONSE_BYTES", "100"),
        ("HTTP_MAX_RESPONSE_BYTES", str(2**31)),
        ("HTTP_MAX_PAGES", "0"),
        ("HTTP_MAX_PAGES", "1000001"),
    ],
)
def test_out_of_bounds_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(Role.BEAT)
    assert any(problem.startswith(name) for problem in caught.value.problems)


def test_the_omnitron_client_takes_the_settings() -> None:
    client = OmnitronClient.from_settings(
        settings(http_request_deadline=9, http_max_response_bytes=4096, http_max_pages=7)
    )
    assert client.http.timeouts.total == 9
    assert client.http.limits.max_response_bytes == 4096 and client.http.limits.max_pages == 7
    assert client.http.sender.limits.max_response_bytes == 4096


def test_the_reference_channel_takes_them_from_its_context() -> None:
    context = IntegrationContext(
        1,
        1,
        logging.getLogger("test"),
        http_limits=Limits(max_response_bytes=4096, max_pages=7),
        http_timeouts=Timeouts(total=9),
    )
    channel = ReferenceIntegration(ReferenceConfig(), context)
    try:
        assert channel.client.http.limits.max_response_bytes == 4096
        assert channel.client.http.limits.max_pages == 7
        assert channel.client.http.timeouts.total == 9
    finally:
        channel.close()
