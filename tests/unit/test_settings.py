"""Settings: every class of bad value is reported, all at once, without its value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channel_app_template.settings import Role, Settings, SettingsError, load_settings

SECRET = "hunter2-very-secret"
VALID_FLOWER = f"admin:{SECRET}"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no developer .env
    yield


def problems(role: Role, **env: str) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(role, **env)
    text = str(caught.value)
    assert SECRET not in text
    return caught.value.problems


def test_web_needs_only_flower_auth() -> None:
    settings = load_settings(Role.WEB, flower_basic_auth=VALID_FLOWER)
    assert settings.flower_upstream == "http://127.0.0.1:5555"
    assert settings.omnitron_base_url is None


def test_web_without_auth_refuses() -> None:
    assert any("FLOWER_BASIC_AUTH" in p for p in problems(Role.WEB))
    assert any("FLOWER_BASIC_AUTH" in p for p in problems(Role.FLOWER))


def test_worker_lists_every_missing_omnitron_setting_at_once() -> None:
    found = problems(Role.WORKER)
    for name in (
        "OMNITRON_URL",
        "OMNITRON_USERNAME",
        "OMNITRON_PASSWORD",
        "OMNITRON_CHANNEL_ID",
        "OMNITRON_CATALOG_ID",
    ):
        assert any(p.startswith(name) for p in found), (name, found)


def test_type_errors_name_the_variable_not_the_value() -> None:
    found = problems(
        Role.WEB,
        broker_port="not-a-port",
        omnitron_channel_id="-3",
        proxy_read_timeout="soon",
        flower_basic_auth=VALID_FLOWER,
    )
    assert any(p.startswith("BROKER_PORT") for p in found)
    assert any(p.startswith("OMNITRON_CHANNEL_ID") for p in found)
    assert any(p.startswith("PROXY_READ_TIMEOUT") for p in found)
    assert not any("not-a-port" in p or "soon" in p for p in found)


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("admin", "must look like user:password"),
        (":password123", "must look like user:password"),
        ("admin:short", "at least 8 characters"),
        (f"admin:{SECRET},bob", "entry 2"),
    ],
)
def test_bad_flower_credentials(auth: str, expected: str) -> None:
    found = problems(Role.WEB, flower_basic_auth=auth)
    assert any(expected in p for p in found), found


def test_read_only_users_cannot_also_be_full_users() -> None:
    found = problems(
        Role.WEB, flower_basic_auth=VALID_FLOWER, flower_readonly_auth=f"admin:{SECRET}2"
    )
    assert any("entry 1 is a user who also has full access" in p for p in found), found
    assert not any("admin" in p for p in found)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"omnitron_url": "ftp://omnitron.example.com"}, "http(s) URL"),
        ({"omnitron_url": "http://omnitron.example.com"}, "must use https"),
        ({"omnitron_url": f"https://user:{SECRET}@omnitron.example.com"}, "credentials"),
        ({"main_app_url": "http://omnitron.example.com"}, "must use https"),
    ],
)
def test_bad_omnitron_urls(env: dict[str, str], expected: str) -> None:
    full = {
        "omnitron_username": "u",
        "omnitron_password": SECRET,
        "omnitron_channel_id": "1",
        "omnitron_catalog_id": "1",
        **env,
    }
    assert any(expected in p for p in problems(Role.WORKER, **full))


def test_main_app_url_is_a_host_that_becomes_https() -> None:
    settings = load_settings(
        Role.WORKER,
        main_app_url="omnitron.example.com",
        omnitron_username="u",
        omnitron_password=SECRET,
        omnitron_channel_id="3",
        omnitron_catalog_id="4",
    )
    assert settings.omnitron_base_url == "https://omnitron.example.com/"


def test_plain_http_allowed_for_local_omnitron() -> None:
    settings = load_settings(
        Role.WORKER,
        omnitron_url="http://127.0.0.1:8010",
        omnitron_username="u",
        omnitron_password=SECRET,
        omnitron_channel_id="1",
        omnitron_catalog_id="1",
    )
    assert settings.omnitron_base_url == "http://127.0.0.1:8010/"


def test_bad_broker_url_and_module_path() -> None:
    found = problems(
        Role.BEAT, broker_url=f"amqp://guest:{SECRET}@localhost//", channel_module="not a module"
    )
    assert any(p.startswith("BROKER_URL") for p in found)
    assert any(p.startswith("CHANNEL_MODULE") for p in found)


def test_broker_url_override_and_defaults() -> None:
    assert load_settings(Role.BEAT).broker_dsn == "redis://127.0.0.1:6379/0"
    built = load_settings(
        Role.BEAT, broker_host="redis.internal", broker_port="6380", broker_database_index="4"
    )
    assert built.broker_dsn == "redis://redis.internal:6380/4"
    assert built.cache_dsn == built.broker_dsn
    tls = load_settings(Role.BEAT, broker_url=f"rediss://:{SECRET}@redis.internal:6380/2")
    assert tls.broker_dsn.startswith("rediss://")


def test_flower_url_defaults_to_the_cluster_service_on_acc() -> None:
    settings = load_settings(
        Role.WEB, flower_basic_auth=VALID_FLOWER, acc_project_app_uuid="abc-123"
    )
    assert settings.flower_upstream == "http://flower-service.abc-123.svc.cluster.local"
    explicit = load_settings(
        Role.WEB,
        flower_basic_auth=VALID_FLOWER,
        acc_project_app_uuid="abc-123",
        flower_url="http://flower:5555/",
    )
    assert explicit.flower_upstream == "http://flower:5555"


def test_secrets_never_in_repr() -> None:
    settings = load_settings(
        Role.WORKER,
        omnitron_url="https://o.example.com",
        omnitron_username="u",
        omnitron_password=SECRET,
        omnitron_channel_id="1",
        omnitron_catalog_id="1",
        flower_basic_auth=VALID_FLOWER,
        broker_url=f"redis://:{SECRET}@r:6379/0",
        sentry_dsn=f"https://{SECRET}@o1.ingest.sentry.io/42",
    )
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in repr(settings.flower_credentials)


def test_dotenv_file_is_read(tmp_path: object) -> None:
    from pathlib import Path

    Path(".env").write_text(f"FLOWER_BASIC_AUTH={VALID_FLOWER}\nFLOWER_URL=http://f:1\n")
    assert load_settings(Role.WEB).flower_upstream == "http://f:1"
