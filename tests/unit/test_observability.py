"""Sentry events are scrubbed of every configured secret and of sensitive keys."""

from __future__ import annotations

from channel_app_template.observability import REDACTED, scrub, secret_values
from channel_app_template.settings import Role, load_settings

SECRET = "omnitron-pass-123"


def test_scrub_removes_secrets_everywhere() -> None:
    settings = load_settings(
        Role.WEB,
        flower_basic_auth="admin:flower-pass-1",
        omnitron_password=SECRET,
        broker_url="redis://:redis-pass-9@r:6379/0",
    )
    secrets = secret_values(settings)
    event = {
        "message": f"login failed for {SECRET}",
        "request": {"headers": {"Authorization": "Basic abc", "X-Ok": "fine"}},
        "extra": {"args": ["flower-pass-1", ("redis://:redis-pass-9@r:6379/0",)]},
        "password": "anything",
    }
    cleaned = scrub(event, secrets)
    text = repr(cleaned)
    for secret in (SECRET, "flower-pass-1", "redis-pass-9", "Basic abc", "anything"):
        assert secret not in text
    assert cleaned["request"]["headers"]["X-Ok"] == "fine"
    assert cleaned["password"] == REDACTED


def test_a_url_setting_contributes_its_password_not_the_whole_url() -> None:
    settings = load_settings(
        Role.WEB,
        flower_basic_auth="admin:flower-pass-1",
        broker_url="redis://:p%40ss-9x@redis.internal:6379/0",
        cache_url="redis://cache.internal:6379/1",
        sentry_dsn="https://dsn-key-77@o1.ingest.sentry.io/5",
    )
    secrets = set(secret_values(settings))
    assert {"p%40ss-9x", "p@ss-9x", "dsn-key-77", "flower-pass-1"} <= secrets
    assert not any("redis.internal" in s or "cache.internal" in s for s in secrets)
