"""Every environment variable the app reads, in one typed and validated object.

Values come from the process environment and, where present, a ``.env`` file in the
working directory. Each process validates only what it uses (see :class:`Role`), and a
bad configuration is reported as one message listing every problem, without ever
echoing a value: secrets are typed as :class:`~pydantic.SecretStr` so that neither
``repr`` nor a log line can show them.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from channel_app_template.order_bounds import (
    DEFAULT_IN_FLIGHT,
    DEFAULT_MAX_LINE_QUANTITY,
    DEFAULT_MAX_UNITS,
    MAX_IN_FLIGHT,
    MAX_LINE_QUANTITY,
    MAX_ORDER_UNITS,
)
from channel_app_template.schedule_values import read_schedule_json, value_problems
from channel_app_template.setting_values import (
    MAX_PASSWORD_LENGTH,
    MAX_REDIS_DB,
    credential_problems,
    is_loopback,
    valid_host,
    valid_http_url,
    valid_redis_url,
    valid_sentry_dsn,
)

__all__ = [
    "BasicCredential",
    "Role",
    "Settings",
    "SettingsError",
    "exit_with",
    "is_loopback",
    "load_settings",
    "load_settings_or_exit",
    "read_settings",
    "redacted_url",
]

DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_ID = 2**31 - 1
LOCAL_FLOWER_URL = "http://127.0.0.1:5555"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# One process-wide cap on every free-text setting; each field may set a tighter one.
MAX_TEXT_LENGTH = 4096
# Bounds shared by several fields, in seconds.
MIN_TIMEOUT, MAX_CONNECT_TIMEOUT, MAX_READ_TIMEOUT = 0.1, 120.0, 3600.0


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
    """The whole configuration. Build it with :func:`load_settings`, not directly.

    Every number has a floor and a ceiling (a test checks that fields added later do
    too), no float may be infinite or NaN (``allow_inf_nan``), every text has a length
    cap, and every URL, host and DSN is parsed whole by the validators below.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
        hide_input_in_errors=True,
        allow_inf_nan=False,
        str_max_length=MAX_TEXT_LENGTH,
    )

    # Omnitron: where the merchant's catalog and orders live.
    omnitron_url: str | None = None
    main_app_url: str | None = None
    omnitron_username: str | None = Field(default=None, max_length=150)
    omnitron_password: SecretStr | None = Field(default=None, max_length=MAX_PASSWORD_LENGTH)
    omnitron_channel_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    omnitron_catalog_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    omnitron_module: str = Field(default="channel_app_template.akinon.port", max_length=200)
    channel_module: str = Field(
        default="channel_app_template.channel.reference.integration", max_length=200
    )
    omnitron_concurrency: int = Field(default=8, ge=1, le=64)
    omnitron_connect_timeout: float = Field(default=5.0, ge=MIN_TIMEOUT, le=MAX_CONNECT_TIMEOUT)
    omnitron_read_timeout: float = Field(default=30.0, ge=MIN_TIMEOUT, le=600.0)

    # Every HTTP peer (Omnitron, the marketplace): bounds on one request, answer and list.
    http_request_deadline: float = Field(default=120.0, gt=0, le=3600, allow_inf_nan=False)
    http_max_response_bytes: int = Field(default=16 * 2**20, ge=1024, le=2**30)
    http_max_pages: int = Field(default=50_000, ge=1, le=1_000_000)

    # The sync engine.
    beat_schedule: str | None = Field(default=None, max_length=65_536)
    batch_stale_after: float = Field(default=6 * 3600.0, ge=1.0, le=7 * 24 * 3600.0)
    task_lock_ttl: float = Field(default=60.0, ge=5, le=3600.0)
    order_max_attempts: int = Field(default=5, ge=1, le=100)
    # What one marketplace order may cost (Omnitron stores one item per unit).
    order_max_line_quantity: int = Field(
        default=DEFAULT_MAX_LINE_QUANTITY, ge=1, le=MAX_LINE_QUANTITY
    )
    order_max_units: int = Field(default=DEFAULT_MAX_UNITS, ge=1, le=MAX_ORDER_UNITS)
    order_in_flight: int = Field(default=DEFAULT_IN_FLIGHT, ge=1, le=MAX_IN_FLIGHT)
    flow_time_budget: float = Field(default=3600.0, ge=1, le=86_400, allow_inf_nan=False)
    flow_stall_timeout: float = Field(default=600.0, ge=1, le=86_400, allow_inf_nan=False)
    modified_date_tolerance: float = Field(default=600.0, ge=0, le=86_400, allow_inf_nan=False)
    resend_max_attempts: int = Field(default=5, ge=1, le=100)
    resend_backoff: float = Field(default=600.0, ge=1, le=86_400, allow_inf_nan=False)
    # Catalog sends this big are split over the workers, in windows of this many objects.
    fanout_min_objects: int = Field(default=20_000, ge=1, le=100_000_000)
    fanout_window: int = Field(default=5_000, ge=100, le=1_000_000)

    # Redis: Celery broker and result backend.
    broker_url: SecretStr | None = None
    broker_host: str = Field(default="127.0.0.1", max_length=253)
    broker_port: int = Field(default=6379, gt=0, lt=65536)
    broker_database_index: int = Field(default=0, ge=0, le=MAX_REDIS_DB)
    # Redis: locks and the Omnitron token cache.
    cache_url: SecretStr | None = None
    cache_host: str | None = Field(default=None, max_length=253)
    cache_port: int = Field(default=6379, gt=0, lt=65536)
    cache_database_index: int = Field(default=0, ge=0, le=MAX_REDIS_DB)

    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = Field(default=None, max_length=64)

    # Logs (every process).
    log_format: Literal["text", "json"] = "text"
    log_level_third_party: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"

    # Flower and the web process's /flower/* proxy.
    flower_url: str | None = None
    flower_basic_auth: SecretStr | None = None
    flower_readonly_auth: SecretStr | None = None
    flower_address: str = Field(default="0.0.0.0", max_length=253)
    flower_port: int = Field(default=8008, gt=0, lt=65536)
    acc_project_app_uuid: str | None = Field(default=None, max_length=63)
    web_port: int = Field(default=8008, gt=0, lt=65536)
    proxy_connect_timeout: float = Field(default=5.0, ge=MIN_TIMEOUT, le=MAX_CONNECT_TIMEOUT)
    proxy_read_timeout: float = Field(default=60.0, ge=MIN_TIMEOUT, le=MAX_READ_TIMEOUT)
    proxy_pool_timeout: float = Field(default=5.0, ge=MIN_TIMEOUT, le=MAX_CONNECT_TIMEOUT)
    proxy_max_connections: int = Field(default=100, ge=1, le=10_000)
    proxy_max_body_bytes: int = Field(default=65_536, ge=1, le=16 * 1024 * 1024)
    proxy_trust_forwarded_headers: bool = False
    health_timeout: float = Field(default=2.0, ge=MIN_TIMEOUT, le=60.0)
    # The web process: its clients (api/server.py), logins (api/login.py), the waits it
    # lets through to Flower (api/waits.py) and its /health probe (api/health.py).
    web_header_timeout: float = Field(default=10.0, ge=MIN_TIMEOUT, le=300.0)
    web_body_timeout: float = Field(default=30.0, ge=MIN_TIMEOUT, le=MAX_READ_TIMEOUT)
    web_keep_alive_timeout: float = Field(default=5.0, ge=MIN_TIMEOUT, le=300.0)
    web_max_connections: int = Field(default=1000, ge=1, le=100_000)
    web_max_header_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)
    login_failures_per_address: int = Field(default=20, ge=1, le=10_000)
    login_failures_per_user: int = Field(default=100, ge=1, le=100_000)
    login_failure_window: float = Field(default=60.0, ge=1.0, le=86_400.0)
    login_trusted_for: float = Field(default=86_400.0, ge=0.0, le=30 * 86_400.0)
    proxy_max_wait: float = Field(default=30.0, ge=MIN_TIMEOUT, le=600.0)
    proxy_waits_per_user: int = Field(default=4, ge=1, le=1000)
    proxy_max_waits: int = Field(default=64, ge=1, le=10_000)
    proxy_flower_waits: int = Field(default=1, ge=1, le=4)
    health_interval: float = Field(default=10.0, ge=0.5, le=3600.0)

    # The operator CLI (channel-app trigger/status): how to reach the web process.
    channel_app_url: str | None = None
    channel_app_user: str | None = Field(default=None, max_length=150)
    channel_app_password: SecretStr | None = Field(default=None, max_length=MAX_PASSWORD_LENGTH)

    # Field checks: each parses its value whole and never repeats it in the message ------

    @field_validator("omnitron_module", "channel_module")
    @classmethod
    def _dotted_path(cls, value: str) -> str:
        if not DOTTED_PATH.match(value):
            raise ValueError("must be a dotted Python module path, e.g. mypackage.channel")
        return value

    @field_validator("omnitron_url")
    @classmethod
    def _omnitron_url(cls, value: str | None) -> str | None:
        return valid_http_url(value, require_https=True)

    @field_validator("main_app_url")
    @classmethod
    def _main_app_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host = value.strip().rstrip("/")
        valid_http_url(host if "://" in host else f"https://{host}", require_https=True)
        return value

    @field_validator("flower_url")
    @classmethod
    def _flower_url(cls, value: str | None) -> str | None:
        return valid_http_url(value, require_https=False)

    @field_validator("channel_app_url")
    @classmethod
    def _channel_app_url(cls, value: str | None) -> str | None:
        return valid_http_url(value, require_https=True)

    @field_validator("broker_url", "cache_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            valid_redis_url(value.get_secret_value())
        return value

    @field_validator("broker_host", "cache_host")
    @classmethod
    def _redis_host(cls, value: str | None) -> str | None:
        if value is not None and not valid_host(value):
            raise ValueError("must be a host name or an IP address")
        return value

    @field_validator("flower_address")
    @classmethod
    def _bind_address(cls, value: str) -> str:
        if not valid_host(value):
            raise ValueError("must be an IP address or a host name to listen on")
        return value

    @field_validator("acc_project_app_uuid")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        if value is not None and not DNS_LABEL.match(value):
            raise ValueError("must be one DNS label: lower-case letters, digits and '-'")
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _sentry_dsn(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            valid_sentry_dsn(value.get_secret_value())
        return value

    @field_validator("sentry_environment")
    @classmethod
    def _sentry_environment(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() or c == "/" for c in value)):
            raise ValueError("must be 1-64 characters without spaces or '/' (Sentry's rule)")
        return value

    @field_validator("flower_basic_auth", "flower_readonly_auth")
    @classmethod
    def _credential_list(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problems = credential_problems(value)
            if problems:
                raise ValueError("\n".join(problems))
        return value

    @field_validator("beat_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        """Its shape only: the values are checked for every role (all listed at once, with
        the task names the Celery processes check), see :func:`_schedule_problems`."""
        if value:
            read_schedule_json(value)
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level_third_party", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

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

    def missing_omnitron_settings(self) -> list[str]:
        """The settings an Omnitron client needs that are not set, by their env names."""
        needed = (
            ("OMNITRON_URL", self.omnitron_base_url),
            ("OMNITRON_USERNAME", self.omnitron_username),
            ("OMNITRON_PASSWORD", self.omnitron_password),
            ("OMNITRON_CHANNEL_ID", self.omnitron_channel_id),
            ("OMNITRON_CATALOG_ID", self.omnitron_catalog_id),
        )
        return [name for name, value in needed if not value]

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


# Checks that depend on the role ---------------------------------------------------------


def _check_omnitron(settings: Settings) -> list[str]:
    problems = []
    if not settings.omnitron_url and not settings.main_app_url:
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
    full = {c.username: n for n, c in enumerate(settings.flower_credentials, start=1)}
    problems = []
    for position, credential in enumerate(settings.flower_readonly_credentials, start=1):
        if credential.username in full:
            problems.append(
                f"FLOWER_READONLY_AUTH: entry {position} is a user who also has full access "
                f"(entry {full[credential.username]} of FLOWER_BASIC_AUTH)"
            )
    return problems


def _schedule_problems(settings: Settings) -> list[str]:
    """Every ``BEAT_SCHEDULE`` value out of bounds. Not a field check, so that a process
    that also checks the task names it uses lists those problems in the same message."""
    if not settings.beat_schedule:
        return []
    entries = read_schedule_json(settings.beat_schedule)
    return [f"BEAT_SCHEDULE: {problem}" for problem in value_problems(entries)]


def _role_problems(settings: Settings, role: Role) -> list[str]:
    problems: list[str] = _schedule_problems(settings)
    if role is Role.WORKER:
        problems += _check_omnitron(settings)
    if role in (Role.WEB, Role.FLOWER):
        problems += _check_flower_auth(settings)
    return problems


def _describe(error: ValidationError) -> list[str]:
    """Turn pydantic's errors into lines naming the env var, never showing its value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        # A field check may find several problems: one line each.
        for message in item["msg"].removeprefix("Value error, ").split("\n"):
            lines.append(f"{field}: {message}")
    return lines


Check = Callable[[Settings], list[str]]


def read_settings(**overrides: object) -> tuple[Settings, list[str]]:
    """The settings with each unparsable field at its default, and one line per such field.

    For tools that must go on with what is usable (``channel-app check``, ``trigger``) and
    for listing every problem at once.
    """
    try:
        return Settings(**overrides), []  # type: ignore[arg-type]
    except ValidationError as error:
        broken = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
        defaults = {name: Settings.model_fields[name].default for name in broken}
        return Settings(**{**overrides, **defaults}), _describe(error)


def load_settings(role: Role, checks: Sequence[Check] = (), **overrides: object) -> Settings:
    """Read and validate the settings ``role`` needs; raise :class:`SettingsError` if bad.

    ``checks`` are further checks for this role (e.g. that ``CHANNEL_MODULE`` imports);
    they run even when fields are broken, on the rest, so every problem is listed at once.
    ``overrides`` take precedence over the environment (tests and the CLI use them).
    """
    settings, problems = read_settings(**overrides)
    named = {line.split(":")[0] for line in problems}
    others = _role_problems(settings, role)
    for check in checks:
        others += check(settings)
    problems += [p for p in others if p.split(":")[0].split()[0] not in named]
    if problems:
        raise SettingsError(problems, role)
    return settings


def load_settings_or_exit(role: Role, checks: Sequence[Check] = ()) -> Settings:
    """For process entry points: print the problems and exit 2 instead of a traceback."""
    try:
        return load_settings(role, checks)
    except SettingsError as error:
        exit_with(error)


def exit_with(error: SettingsError) -> NoReturn:
    print(str(error), file=sys.stderr)
    print("See README.rst, section 'Configuration', for every setting.", file=sys.stderr)
    raise SystemExit(2)


def redacted_url(url: str) -> str:
    """A URL safe to print: any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    user = quote(parts.username or "", safe="")
    host = parts.hostname or ""
    shown_port = f":{port}" if port else ""
    return parts._replace(netloc=f"{user}:***@{host}{shown_port}").geturl()
