"""Every environment variable the app reads, in one typed and validated object.

Values come from the process environment and, where present, a ``.env`` file in the
working directory. Each process validates only what it uses (see :class:`Role`), and a
bad configuration is reported as one message listing every problem, without ever
echoing a value: secrets are typed as :class:`~pydantic.SecretStr` so that neither
``repr`` nor a log line can show them.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MIN_FLOWER_PASSWORD_LENGTH = 8
LOCAL_FLOWER_URL = "http://127.0.0.1:5555"
REDIS_SCHEMES = ("redis", "rediss", "redis+socket")


class Role(enum.StrEnum):
    """The process kinds of the Procfile; each one requires only the settings it uses."""

    WEB = "web"
    WORKER = "worker"
    BEAT = "beat"
    FLOWER = "flower"
    CELERY = "celery"  # any Celery process, before it is known which one it is


class SettingsError(Exception):
    """The configuration is unusable; ``problems`` holds one line per problem."""

    def __init__(self, problems: Iterable[str], role: Role | None = None) -> None:
        self.problems = list(problems)
        self.role = role
        process = f"the {role.value} process" if role else "this process"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Configuration is invalid for {process}:\n{lines}")


@dataclass(frozen=True)
class BasicCredential:
    """One ``user:password`` pair for the Flower proxy."""

    username: str
    password: SecretStr


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`, not directly."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    # Omnitron: where the merchant's catalog and orders live.
    omnitron_url: str | None = None
    main_app_url: str | None = None
    omnitron_username: str | None = None
    omnitron_password: SecretStr | None = None
    omnitron_channel_id: int | None = Field(default=None, gt=0)
    omnitron_catalog_id: int | None = Field(default=None, gt=0)
    omnitron_module: str = "channel_app_template.akinon.integration"
    channel_module: str = "channel_app_template.channel.reference.integration"
    omnitron_concurrency: int = Field(default=8, ge=1, le=64)
    omnitron_connect_timeout: float = Field(default=5.0, gt=0)
    omnitron_read_timeout: float = Field(default=30.0, gt=0)

    # The sync engine.
    beat_schedule: str | None = None
    batch_stale_after: float = Field(default=6 * 3600.0, gt=0)
    task_lock_ttl: float = Field(default=60.0, ge=5)
    order_max_attempts: int = Field(default=5, ge=1)

    # Redis: Celery broker and result backend.
    broker_url: SecretStr | None = None
    broker_host: str = "127.0.0.1"
    broker_port: int = Field(default=6379, gt=0, lt=65536)
    broker_database_index: int = Field(default=0, ge=0)
    # Redis: locks and the Omnitron token cache.
    cache_url: SecretStr | None = None
    cache_host: str | None = None
    cache_port: int = Field(default=6379, gt=0, lt=65536)
    cache_database_index: int = Field(default=0, ge=0)

    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = None

    # Flower and the web process's /flower/* proxy.
    flower_url: str | None = None
    flower_basic_auth: SecretStr | None = None
    flower_readonly_auth: SecretStr | None = None
    flower_address: str = "0.0.0.0"
    flower_port: int = Field(default=8008, gt=0, lt=65536)
    acc_project_app_uuid: str | None = None
    proxy_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    proxy_read_timeout: float = Field(default=60.0, gt=0, le=3600)
    proxy_pool_timeout: float = Field(default=5.0, gt=0, le=60)
    proxy_max_connections: int = Field(default=100, gt=0, le=10_000)
    proxy_max_body_bytes: int = Field(default=65_536, gt=0, le=1 << 30)
    proxy_trust_forwarded_headers: bool = False
    health_timeout: float = Field(default=2.0, gt=0, le=60)
    # The web process: its clients (api/server.py), logins (api/login.py), the waits it
    # lets through to Flower (api/waits.py) and its /health probe (api/health.py).
    web_header_timeout: float = Field(default=10.0, gt=0, le=300)
    web_body_timeout: float = Field(default=30.0, gt=0, le=3600)
    web_keep_alive_timeout: float = Field(default=5.0, gt=0, le=300)
    web_max_connections: int = Field(default=1000, ge=1, le=100_000)
    web_max_header_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)
    login_failures_per_address: int = Field(default=20, ge=1, le=10_000)
    login_failures_per_user: int = Field(default=100, ge=1, le=100_000)
    login_failure_window: float = Field(default=60.0, ge=1, le=86_400)
    login_trusted_for: float = Field(default=86_400.0, ge=0, le=30 * 86_400)
    proxy_max_wait: float = Field(default=30.0, gt=0, le=600)
    proxy_waits_per_user: int = Field(default=4, ge=1, le=1000)
    proxy_max_waits: int = Field(default=64, ge=1, le=10_000)
    proxy_flower_waits: int = Field(default=1, ge=1, le=4)
    health_interval: float = Field(default=10.0, ge=0.5, le=3600)

    @field_validator("omnitron_module", "channel_module")
    @classmethod
    def _dotted_path(cls, value: str) -> str:
        if not DOTTED_PATH.match(value):
            raise ValueError("must be a dotted Python module path, e.g. mypackage.channel")
        return value

    # Derived values -------------------------------------------------------------------

    @property
    def omnitron_base_url(self) -> str | None:
        """Omnitron's root URL with a trailing slash (API calls go under ``api/v1/``)."""
        if self.omnitron_url:
            return self.omnitron_url.rstrip("/") + "/"
        if self.main_app_url:
            host = self.main_app_url.strip().rstrip("/")
            return (host if "://" in host else f"https://{host}") + "/"
        return None

    @property
    def broker_dsn(self) -> str:
        """The broker URL, password included: pass it to Celery, never to a log."""
        if self.broker_url is not None:
            return self.broker_url.get_secret_value()
        return f"redis://{self.broker_host}:{self.broker_port}/{self.broker_database_index}"

    @property
    def cache_dsn(self) -> str:
        """The cache Redis URL; the broker's server when no cache is configured."""
        if self.cache_url is not None:
            return self.cache_url.get_secret_value()
        if self.cache_host:
            return f"redis://{self.cache_host}:{self.cache_port}/{self.cache_database_index}"
        return self.broker_dsn

    @property
    def flower_upstream(self) -> str:
        """Where the web process finds Flower: explicit, in-cluster on ACC, or local."""
        if self.flower_url:
            return self.flower_url.rstrip("/")
        if self.acc_project_app_uuid:
            return f"http://flower-service.{self.acc_project_app_uuid}.svc.cluster.local"
        return LOCAL_FLOWER_URL

    @property
    def flower_credentials(self) -> list[BasicCredential]:
        """Full-access proxy users; the first one is also what the proxy shows Flower."""
        return _parse_credentials(self.flower_basic_auth)

    @property
    def flower_readonly_credentials(self) -> list[BasicCredential]:
        """Users who may look at Flower through the proxy but change nothing."""
        return _parse_credentials(self.flower_readonly_auth)


def _parse_credentials(raw: SecretStr | None) -> list[BasicCredential]:
    if raw is None:
        return []
    credentials = []
    for item in raw.get_secret_value().split(","):
        username, _, password = item.strip().partition(":")
        credentials.append(BasicCredential(username, SecretStr(password)))
    return credentials


# Checks that span fields or depend on the role ------------------------------------------


def _check_credentials(name: str, raw: SecretStr | None) -> list[str]:
    if raw is None:
        return []
    problems = []
    for position, item in enumerate(raw.get_secret_value().split(","), start=1):
        username, separator, password = item.strip().partition(":")
        if not separator or not username:
            problems.append(f"{name}: entry {position} must look like user:password")
        elif len(password) < MIN_FLOWER_PASSWORD_LENGTH:
            problems.append(
                f"{name}: the password of user {username!r} must have at least "
                f"{MIN_FLOWER_PASSWORD_LENGTH} characters"
            )
    return problems


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_http_url(name: str, value: str, *, require_https: bool) -> list[str]:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name}: must be an http(s) URL with a host, e.g. https://omnitron.example.com"]
    if require_https and parts.scheme != "https" and not _is_loopback(parts.hostname):
        return [f"{name}: must use https (plain http is accepted only for localhost)"]
    if parts.username or parts.password:
        return [f"{name}: must not carry credentials; use the dedicated settings"]
    return []


def _check_redis_url(name: str, raw: SecretStr | None) -> list[str]:
    if raw is None:
        return []
    scheme = urlsplit(raw.get_secret_value()).scheme
    if scheme not in REDIS_SCHEMES:
        return [f"{name}: must be a Redis URL ({', '.join(s + '://' for s in REDIS_SCHEMES)})"]
    return []


def _check_omnitron(settings: Settings) -> list[str]:
    problems = []
    if settings.omnitron_url:
        problems += _check_http_url("OMNITRON_URL", settings.omnitron_url, require_https=True)
    elif settings.main_app_url:
        base = settings.omnitron_base_url or ""
        problems += _check_http_url("MAIN_APP_URL", base, require_https=True)
    else:
        problems.append("OMNITRON_URL (or MAIN_APP_URL): required, Omnitron's address")
    for name, value in (
        ("OMNITRON_USERNAME", settings.omnitron_username),
        ("OMNITRON_PASSWORD", settings.omnitron_password),
        ("OMNITRON_CHANNEL_ID", settings.omnitron_channel_id),
        ("OMNITRON_CATALOG_ID", settings.omnitron_catalog_id),
    ):
        if value is None or value == "":
            problems.append(f"{name}: required")
    return problems


def _check_flower_auth(settings: Settings) -> list[str]:
    if settings.flower_basic_auth is None or not settings.flower_basic_auth.get_secret_value():
        return [
            "FLOWER_BASIC_AUTH: required, as user:password[,user2:password2]; "
            "Flower and its proxy never run without authentication"
        ]
    problems = _check_credentials("FLOWER_BASIC_AUTH", settings.flower_basic_auth)
    problems += _check_credentials("FLOWER_READONLY_AUTH", settings.flower_readonly_auth)
    if not problems:
        full = {c.username for c in settings.flower_credentials}
        shared = full & {c.username for c in settings.flower_readonly_credentials}
        if shared:
            problems.append(
                "FLOWER_READONLY_AUTH: these users also have full access in "
                f"FLOWER_BASIC_AUTH: {', '.join(sorted(shared))}"
            )
    return problems


def _check_schedule(raw: str | None) -> list[str]:
    from channel_app_template.schedule import ScheduleError, parse_overrides

    try:
        parse_overrides(raw)
    except ScheduleError as error:
        return str(error).split("; ")
    return []


def _role_problems(settings: Settings, role: Role) -> list[str]:
    problems = _check_redis_url("BROKER_URL", settings.broker_url)
    problems += _check_redis_url("CACHE_URL", settings.cache_url)
    if role is Role.WORKER:
        problems += _check_omnitron(settings)
    if role is not Role.WEB:  # every Celery process builds the schedule
        problems += _check_schedule(settings.beat_schedule)
    if role in (Role.WEB, Role.FLOWER):
        problems += _check_flower_auth(settings)
    if role is Role.WEB and settings.flower_url:
        problems += _check_http_url("FLOWER_URL", settings.flower_url, require_https=False)
    return problems


def _describe(error: ValidationError) -> list[str]:
    """Turn pydantic's errors into lines naming the env var, never showing its value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"{field}: {item['msg']}")
    return lines


def load_settings(role: Role, **overrides: object) -> Settings:
    """Read and validate the settings ``role`` needs; raise :class:`SettingsError` if bad.

    ``overrides`` take precedence over the environment (tests and the CLI use them).
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        # Check the rest too, with the broken values at their defaults, so the message
        # lists every problem at once rather than one per attempt.
        broken = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
        defaults = {name: Settings.model_fields[name].default for name in broken}
        rest = Settings(**{**overrides, **defaults})
        named = {name.upper() for name in broken}
        others = [p for p in _role_problems(rest, role) if p.split(":")[0].split()[0] not in named]
        raise SettingsError(_describe(error) + others, role) from None
    problems = _role_problems(settings, role)
    if problems:
        raise SettingsError(problems, role)
    return settings


def load_settings_or_exit(role: Role) -> Settings:
    """For process entry points: print the problems and exit 2 instead of a traceback."""
    try:
        return load_settings(role)
    except SettingsError as error:
        exit_with(error)


def exit_with(error: SettingsError) -> NoReturn:
    print(str(error), file=sys.stderr)
    print("See README.rst, section 'Configuration', for every setting.", file=sys.stderr)
    raise SystemExit(2)


def redacted_url(url: str) -> str:
    """A URL safe to print: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = quote(parts.username or "", safe="")
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{user}:***@{host}{port}").geturl()
