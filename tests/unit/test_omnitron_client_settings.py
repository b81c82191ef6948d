"""Building the client from the typed settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache, RedisTokenCache
from channel_app_template.errors import ConfigurationError
from channel_app_template.settings import Settings


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


def test_from_settings_uses_the_cache_redis_and_the_channel() -> None:
    client = OmnitronClient.from_settings(settings())
    assert client.http.api_url == "https://omnitron.example.com/api/v1/"
    assert client.products.channel_id == client.orders.channel_id == 4
    assert client.channel.catalog_id == 2
    cache = client.http.token_cache
    assert isinstance(cache, RedisTokenCache)  # no connection is made until first use
    assert "pw-123456" not in cache.token_key and "bot" not in cache.token_key
    assert "pw-123456" not in repr(client)


def test_from_settings_accepts_another_cache() -> None:
    cache = MemoryTokenCache()
    assert OmnitronClient.from_settings(settings(), token_cache=cache).http.token_cache is cache


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        OmnitronClient.from_settings(settings(omnitron_password=None, omnitron_channel_id=None))
    assert "OMNITRON_PASSWORD" in str(caught.value)
    assert "OMNITRON_CHANNEL_ID" in str(caught.value)
