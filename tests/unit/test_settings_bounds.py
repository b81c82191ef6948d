"""Every setting is bounded, finite and parsed whole at start-up, and no refusal ever shows
any part of a secret (not even 4 characters of it)."""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Iterator

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr

from channel_app_template.settings import Role, Settings, SettingsError, load_settings

SECRET = "Qz7Kv3Xp9Lm2Wt"  # no word of any message contains 4 of its characters in a row
ODD_SECRET = "p@ss/w0rd!x#Qz"  # characters a user name may not have


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]  # no developer .env
    yield


def pieces(secret: str, size: int = 4) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def refused(env: dict[str, str], role: Role = Role.WEB) -> list[str]:
    """The problems listed for ``env``; asserts no part of a secret is among them."""
    with pytest.raises(SettingsError) as caught:
        load_settings(role, **env)
    text = str(caught.value)
    for secret in (SECRET, ODD_SECRET):
        leaked = [piece for piece in pieces(secret) if piece in text]
        assert not leaked, (leaked, text)
    return caught.value.problems


FLOWER = {"flower_basic_auth": f"admin:{SECRET}"}
DSN = f"https://{SECRET}@o1.ingest.sentry.io/42"

INVALID: list[tuple[str, str, str]] = [
    # (kind, variable, value)
    ("port", "BROKER_PORT", "99999"),
    ("port", "BROKER_PORT", "0"),
    ("port", "CACHE_PORT", "65536"),
    ("port", "FLOWER_PORT", "-1"),
    ("port", "WEB_PORT", "http"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@redis.internal:99999/0"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@redis.internal:6379/abc"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@redis.internal:6379/256"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@:6379/0"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@bad_host!:6379/0"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@redis internal:6379/0"),
    ("url", "BROKER_URL", f"amqp://guest:{SECRET}@localhost//"),
    ("url", "BROKER_URL", f"redis://:{SECRET}@[::1:6379/0"),
    ("url", "CACHE_URL", f"rediss://:{SECRET}@cache.internal:0/1"),
    ("url", "CACHE_URL", f"redis+socket://{SECRET}"),
    ("url", "OMNITRON_URL", "https://omnitron.example.com:99999"),
    ("url", "OMNITRON_URL", "https://omni tron.example.com"),
    ("url", "OMNITRON_URL", f"https://user:{SECRET}@omnitron.example.com"),
    ("url", "MAIN_APP_URL", "omnitron.example.com:port"),
    ("url", "FLOWER_URL", "ftp://flower:5555"),
    ("url", "CHANNEL_APP_URL", "http://app.example.com"),
    ("host", "BROKER_HOST", "not a host"),
    ("host", "CACHE_HOST", "-bad-.example"),
    ("host", "FLOWER_ADDRESS", "0.0.0.0.0"),
    ("host", "ACC_PROJECT_APP_UUID", "Not A Label"),
    ("index", "BROKER_DATABASE_INDEX", "256"),
    ("index", "CACHE_DATABASE_INDEX", "-1"),
    ("id", "OMNITRON_CHANNEL_ID", str(2**40)),
    ("id", "OMNITRON_CATALOG_ID", "1e300"),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": 0.001}'),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": Infinity}'),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": NaN}'),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": 1e300}'),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": 1e400}'),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": ' + "9" * 400 + "}"),
    ("interval", "BEAT_SCHEDULE", '{"check_stocks": "61 * * * *"}'),
    ("interval", "BEAT_SCHEDULE", json.dumps({"check_stocks": "* " * 60})),
    ("interval", "BATCH_STALE_AFTER", "nan"),
    ("interval", "BATCH_STALE_AFTER", "1e300"),
    ("interval", "TASK_LOCK_TTL", "inf"),
    ("timeout", "OMNITRON_READ_TIMEOUT", "inf"),
    ("timeout", "OMNITRON_READ_TIMEOUT", "1e300"),
    ("timeout", "OMNITRON_CONNECT_TIMEOUT", "0"),
    ("timeout", "PROXY_READ_TIMEOUT", "Infinity"),
    ("timeout", "PROXY_POOL_TIMEOUT", "-1"),
    ("timeout", "HEALTH_TIMEOUT", "NaN"),
    ("count", "OMNITRON_CONCURRENCY", "1000000000"),
    ("count", "ORDER_MAX_ATTEMPTS", "0"),
    ("count", "PROXY_MAX_CONNECTIONS", "1e12"),
    ("count", "PROXY_MAX_BODY_BYTES", str(2**40)),
    ("dsn", "SENTRY_DSN", SECRET),
    ("dsn", "SENTRY_DSN", f"https://{SECRET}@o1.ingest.sentry.io"),
    ("dsn", "SENTRY_DSN", "https://o1.ingest.sentry.io/42"),
    ("dsn", "SENTRY_DSN", f"ftp://{SECRET}@o1.ingest.sentry.io/42"),
    ("dsn", "SENTRY_DSN", f"https://{SECRET}@o1.ingest.sentry.io:99999/42"),
    ("dsn", "SENTRY_DSN", f"https://{SECRET}@sentry.example.com/project"),
    ("dsn", "SENTRY_ENVIRONMENT", "prod/eu"),
    ("credentials", "FLOWER_BASIC_AUTH", f"{SECRET}:admin"),  # the wrong way round
    ("credentials", "FLOWER_BASIC_AUTH", f"{ODD_SECRET}:admin-user"),
    ("credentials", "FLOWER_BASIC_AUTH", SECRET),
    ("credentials", "FLOWER_BASIC_AUTH", f"admin:{SECRET},{SECRET}"),
    ("credentials", "FLOWER_BASIC_AUTH", ",".join(f"u{i}:{SECRET}" for i in range(40))),
    ("credentials", "FLOWER_READONLY_AUTH", f"{SECRET}:viewer"),
    ("credentials", "OMNITRON_PASSWORD", SECRET * 100),
    ("credentials", "CHANNEL_APP_PASSWORD", SECRET * 100),
    ("credentials", "OMNITRON_USERNAME", "u" * 151),
    ("module", "CHANNEL_MODULE", "not a module"),
    ("module", "OMNITRON_MODULE", "a." * 120 + "b"),
    ("logs", "LOG_FORMAT", "xml"),
    ("logs", "LOG_LEVEL_THIRD_PARTY", "LOUD"),
]


@pytest.mark.parametrize(
    ("kind", "variable", "value"),
    INVALID,
    ids=[f"{k}-{v}-{i}" for i, (k, v, _) in enumerate(INVALID)],
)
def test_each_invalid_value_is_refused_at_start_up_without_echo(
    kind: str, variable: str, value: str
) -> None:
    env = {**FLOWER, variable.lower(): value}
    found = refused(env)
    assert any(p.startswith(variable) for p in found), (kind, found)


def test_every_problem_is_listed_at_once() -> None:
    env = {variable.lower(): value for _, variable, value in reversed(INVALID)}
    found = refused(env)
    named = {p.split(":")[0].split()[0] for p in found}
    assert {variable for _, variable, _ in INVALID} <= named, sorted(named)


def test_the_wrong_way_round_credential_says_so_without_the_password() -> None:
    found = refused({"flower_basic_auth": f"{ODD_SECRET}:admin-user"})
    assert any("wrong way round" in p for p in found), found


def _numeric(annotation: object) -> type | None:
    for kind in (int, float):
        if annotation is kind or kind in typing.get_args(annotation):
            return kind
    return None


def test_every_numeric_setting_has_a_floor_and_a_ceiling() -> None:
    """Also holds for settings added later: a number without both bounds fails here."""
    unbounded = []
    for name, field in Settings.model_fields.items():
        if field.annotation is bool or _numeric(field.annotation) is None:
            continue
        kinds = {type(m) for m in field.metadata}
        if not (kinds & {Ge, Gt}) or not (kinds & {Le, Lt}):
            unbounded.append(name)
    assert not unbounded


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity"])
def test_no_float_setting_accepts_a_non_finite_value(value: str) -> None:
    floats = [n for n, f in Settings.model_fields.items() if _numeric(f.annotation) is float]
    assert floats
    found = refused({**FLOWER, **{name: value for name in floats}})
    for name in floats:
        assert any(p.startswith(name.upper()) for p in found), (name, found)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BROKER_URL", f"redis://:{SECRET}@redis.internal:6380/15"),
        ("BROKER_URL", f"rediss://default:{SECRET}@redis.internal/0"),
        ("BROKER_URL", "redis+socket:///run/redis.sock"),
        ("BROKER_URL", "redis://[::1]:6379"),
        ("SENTRY_DSN", DSN),
        ("SENTRY_DSN", f"https://{SECRET}:legacy-secret@sentry.example.com/prefix/7"),
        ("BEAT_SCHEDULE", '{"check_stocks": 1, "fetch_orders": 2678400, "ping": null}'),
        ("BEAT_SCHEDULE", '{"check_stocks": "*/5 * * * *"}'),
        ("OMNITRON_URL", "https://omnitron.example.com:8443/"),
        ("FLOWER_URL", "http://flower-service.abc.svc.cluster.local"),
        ("CHANNEL_APP_URL", "http://127.0.0.1:8008"),
        ("LOG_FORMAT", "JSON"),
        ("LOG_LEVEL_THIRD_PARTY", "info"),
    ],
)
def test_good_values_at_the_edges_are_accepted(variable: str, value: str) -> None:
    load_settings(Role.WEB, **FLOWER, **{variable.lower(): value})


def test_sentry_accepts_every_dsn_we_accept() -> None:
    from sentry_sdk.utils import Dsn

    for dsn in (DSN, f"https://{SECRET}:legacy-secret@sentry.example.com/prefix/7"):
        settings = load_settings(Role.WEB, **FLOWER, sentry_dsn=dsn)
        assert isinstance(settings.sentry_dsn, SecretStr)
        Dsn(settings.sentry_dsn.get_secret_value())  # raises BadDsn if we were too lenient


def test_schedule_bounds_are_the_documented_ones() -> None:
    from channel_app_template.schedule import MAX_INTERVAL, MIN_INTERVAL

    assert MIN_INTERVAL == 1.0
    assert MAX_INTERVAL == 31 * 24 * 3600
    assert math.isfinite(MAX_INTERVAL)
