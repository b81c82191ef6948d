"""``channel-app check``: is this deployment able to sync, and if not, what exactly to fix.

It validates the settings of every process kind, then reaches each service the workers need
(the broker and cache Redis, Omnitron, the marketplace through the channel integration) and
prints one line per finding: a tick for what works, a cross with the fix for what does not.
Every check runs under a deadline, so an unreachable host costs seconds, and no secret is
ever printed: every known secret is masked in every line as a last line of defence.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

import redis
from pydantic import SecretStr

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.models import Channel
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.channel import ChannelIntegration, IntegrationContext
from channel_app_template.core.run.registry import load_channel, load_class
from channel_app_template.core.run.runtime import channel_config
from channel_app_template.errors import (
    AuthenticationError,
    ChannelAppError,
    ConfigurationError,
    NotFoundError,
    RetryLater,
    RunError,
)
from channel_app_template.observability import secret_values
from channel_app_template.ops.arguments import bounded_float
from channel_app_template.redaction import MIN_SECRET_LENGTH, config_secrets
from channel_app_template.schedule import unknown_task_problems
from channel_app_template.settings import (
    Role,
    Settings,
    SettingsError,
    load_settings,
    read_settings,
    redacted_url,
)
from channel_app_template.transport import RetryPolicy, Timeouts

T = TypeVar("T")
ROLES = (Role.WEB, Role.WORKER, Role.BEAT, Role.FLOWER)
DEFAULT_CHECK_TIMEOUT = 10.0


class CheckTimeout(Exception):
    """A check did not finish within its deadline."""


def bounded(work: Callable[[], T], seconds: float) -> T:
    """Run ``work`` in a daemon thread; raise :class:`CheckTimeout` after ``seconds``.

    The thread is abandoned, not killed, on timeout: the command exits soon after anyway.
    """
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            outcome.put((True, work()))
        except BaseException as error:
            outcome.put((False, error))

    threading.Thread(target=run, name="channel-app-check", daemon=True).start()
    try:
        ok, value = outcome.get(timeout=seconds)
    except queue.Empty:
        raise CheckTimeout(f"no answer within {seconds:g}s") from None
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


@dataclass
class Report:
    """The findings, printed as they come, with every known secret masked."""

    out: TextIO
    secrets: set[str] = field(default_factory=set)
    problems: int = 0
    ok_mark: str = "✓"
    bad_mark: str = "✗"
    skip_mark: str = "-"

    def __post_init__(self) -> None:
        encoding = getattr(self.out, "encoding", None) or "ascii"
        try:
            (self.ok_mark + self.bad_mark).encode(encoding)
        except (UnicodeEncodeError, LookupError):
            self.ok_mark, self.bad_mark = "OK", "FAIL"

    def hide(self, *values: str | SecretStr | None) -> None:
        for value in values:
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if text and len(text) >= MIN_SECRET_LENGTH:
                self.secrets.add(text)

    def _emit(self, mark: str, subject: str, text: str) -> None:
        line = f"{mark} {subject}: {text}"
        for secret in sorted(self.secrets, key=len, reverse=True):
            line = line.replace(secret, "***")
        print(line, file=self.out, flush=True)

    def ok(self, subject: str, text: str) -> None:
        self._emit(self.ok_mark, subject, text)

    def bad(self, subject: str, text: str) -> None:
        self.problems += 1
        self._emit(self.bad_mark, subject, text)

    def skipped(self, subject: str, text: str) -> None:
        self._emit(self.skip_mark, subject, text)


# --- Settings -------------------------------------------------------------------------------


def check_settings(report: Report) -> Settings | None:
    """Every role's problems, each once; then the settings to check services with.

    Fields that do not even parse are put back to their defaults for the service checks, as
    :func:`load_settings` does to list every problem; the checks that need them then say so.
    """
    found: dict[str, list[str]] = {}
    for role in ROLES:
        try:
            load_settings(role, [unknown_task_problems])
        except SettingsError as error:
            for problem in error.problems:
                found.setdefault(problem, []).append(role.value)
    for problem, roles in found.items():
        if len(roles) == len(ROLES):
            who = "every process"
        elif len(roles) == 1:
            who = f"the {roles[0]} process"
        else:
            who = f"the {', '.join(roles[:-1])} and {roles[-1]} processes"
        report.bad(
            "Settings",
            f"{problem} (for {who}): fix it in the environment or .env "
            "(README.rst, section 'Configuration')",
        )
    if not found:
        report.ok("Settings", f"valid for {', '.join(r.value for r in ROLES)}")
    settings, _ = read_settings()  # broken fields at their defaults, listed above
    report.hide(*secret_values(settings))
    if settings.omnitron_username:
        report.secrets.discard(settings.omnitron_username)
    return settings


# --- Redis ----------------------------------------------------------------------------------


def _ping(dsn: str, timeout: float) -> None:
    client = redis.Redis.from_url(
        dsn, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False
    )
    try:
        client.ping()
    finally:
        client.close()


def check_redis(report: Report, settings: Settings, timeout: float) -> bool:
    targets = [("Broker", settings.broker_dsn, "BROKER_URL (or BROKER_HOST/BROKER_PORT)")]
    if settings.cache_dsn != settings.broker_dsn:
        targets.append(("Cache", settings.cache_dsn, "CACHE_URL (or CACHE_HOST/CACHE_PORT)"))
    healthy = True
    for subject, dsn, names in targets:
        where = redacted_url(dsn)
        try:
            bounded(lambda dsn=dsn: _ping(dsn, timeout / 2), timeout)  # type: ignore[misc]
        except redis.AuthenticationError:
            report.bad(subject, f"Redis at {where} refused the password: check {names}")
            healthy = False
        except redis.ResponseError as error:
            # e.g. "NOAUTH Authentication required" or a wrong database index
            first = str(error).split("\n")[0][:120]
            report.bad(subject, f"Redis at {where} answered an error ({first}): check {names}")
            healthy = False
        except (redis.ConnectionError, redis.TimeoutError, CheckTimeout, OSError) as error:
            report.bad(
                subject,
                f"cannot reach Redis at {where} ({_reason(error)}): check {names} and that "
                "Redis runs",
            )
            healthy = False
        except Exception as error:
            report.bad(subject, f"Redis at {where}: {_reason(error)}: check {names}")
            healthy = False
        else:
            report.ok(subject, f"Redis at {where} answered PING")
    return healthy


# --- Omnitron -------------------------------------------------------------------------------


def _omnitron_client(settings: Settings, timeout: float) -> OmnitronClient:
    """The project's client with a private token cache and short, few retries."""
    attempt_read = max(1.0, min(settings.omnitron_read_timeout, timeout / 2))
    return OmnitronClient.from_settings(
        settings,
        token_cache=MemoryTokenCache(),
        timeouts=Timeouts(
            connect=max(0.5, min(settings.omnitron_connect_timeout, timeout / 3)),
            read=attempt_read,
        ),
        retry=RetryPolicy(
            max_attempts=2,
            backoff_base=0.2,
            backoff_cap=0.5,
            max_retry_after=1.0,
            max_elapsed=timeout / 2,
        ),
    )


def _omnitron_problem(error: BaseException, settings: Settings, step: str) -> str:
    url = settings.omnitron_base_url
    user = settings.omnitron_username
    if isinstance(error, CheckTimeout):
        return f"{step}: no answer from {url} ({error}): check OMNITRON_URL and the network"
    if isinstance(error, AuthenticationError):
        if step == "login":
            return (
                f"login refused for user {user!r} at {url}: check "
                "OMNITRON_USERNAME/OMNITRON_PASSWORD"
            )
        return f"{step}: {error.message}: check OMNITRON_USERNAME/OMNITRON_PASSWORD"
    if isinstance(error, NotFoundError):
        if step == "login":
            return f"no Omnitron login at {url}api/v1/auth/login/ (404): check OMNITRON_URL"
        if step.startswith("channel"):
            return (
                f"channel {settings.omnitron_channel_id} not found at {url} (or user {user!r} "
                "cannot see it): check OMNITRON_CHANNEL_ID"
            )
        return (
            f"catalog {settings.omnitron_catalog_id} not found at {url} (or user {user!r} "
            "cannot see it): check OMNITRON_CATALOG_ID"
        )
    if isinstance(error, ConfigurationError):
        if error.status_code == 403:
            return f"{step}: {error.message}: give user {user!r} that permission in Omnitron"
        return f"{step}: {error.message}: check OMNITRON_URL"
    if isinstance(error, RetryLater):
        if error.status_code is None:
            return (
                f"cannot reach Omnitron at {url} ({_reason(error)}): "
                "check OMNITRON_URL and that Omnitron is up"
            )
        return (
            f"{step}: Omnitron at {url} answered {error.status_code}: it is having trouble; "
            "try again later"
        )
    if isinstance(error, RunError):
        return f"{step}: {error.message}: is OMNITRON_URL ({url}) really Omnitron?"
    return f"{step} failed at {url}: {_reason(error)}"


def check_omnitron(report: Report, settings: Settings, timeout: float) -> Channel | None:
    """Log in, read the channel and the catalog; the channel (with its conf) if all work."""
    missing = settings.missing_omnitron_settings()
    if missing:
        report.skipped("Omnitron", f"not checked: {', '.join(missing)} not set (see above)")
        return None
    try:
        client = _omnitron_client(settings, timeout)
    except ChannelAppError as error:
        report.bad("Omnitron", f"{error.message}: check OMNITRON_URL")
        return None
    url = settings.omnitron_base_url
    try:
        try:
            bounded(client.http.login, timeout)
        except Exception as error:
            report.bad("Omnitron", _omnitron_problem(error, settings, "login"))
            return None
        report.ok("Omnitron", f"logged in as {settings.omnitron_username!r} at {url}")
        channel_id, catalog_id = settings.omnitron_channel_id, settings.omnitron_catalog_id
        try:
            channel = bounded(client.channel.get, timeout)
        except Exception as error:
            report.bad("Omnitron", _omnitron_problem(error, settings, f"channel {channel_id}"))
            return None
        state = "" if channel.is_active else " (inactive in Omnitron)"
        report.ok("Omnitron", f"channel {channel_id} {channel.name!r}{state}")
        try:
            catalog = bounded(client.channel.catalog, timeout)
        except Exception as error:
            report.bad("Omnitron", _omnitron_problem(error, settings, f"catalog {catalog_id}"))
            return channel
        if channel.catalog is not None and channel.catalog != catalog_id:
            report.bad(
                "Omnitron",
                f"channel {channel_id} uses catalog {channel.catalog}, not {catalog_id}: "
                f"set OMNITRON_CATALOG_ID={channel.catalog}",
            )
        else:
            report.ok("Omnitron", f"catalog {catalog_id} {catalog.name!r}")
        return channel
    finally:
        client.close()


# --- The channel ----------------------------------------------------------------------------


def load_integrations(report: Report, settings: Settings) -> type[ChannelIntegration] | None:
    try:
        load_class(
            settings.omnitron_module, "OmnitronIntegration", OmnitronIntegration, "OMNITRON_MODULE"
        )
        channel_cls = load_channel(settings.channel_module)
    except ConfigurationError as error:
        report.bad("Channel", f"{error.message}")
        return None
    report.ok("Channel", f"CHANNEL_MODULE={settings.channel_module} ({channel_cls.__name__})")
    return channel_cls


def _address(config: Any) -> str:
    for name in ("api_url", "base_url", "url"):
        value = getattr(config, name, None)
        if isinstance(value, str) and value:
            return f" at {redacted_url(value)}"
    return ""


def check_channel(
    report: Report,
    settings: Settings,
    channel_cls: type[ChannelIntegration],
    channel: Channel,
    timeout: float,
) -> None:
    name = channel_cls.__name__
    where_conf = f"channel {settings.omnitron_channel_id}'s settings (channel.conf) in Omnitron"
    # Mask the conf's secret-looking values (any depth) even before the model types them.
    report.hide(*config_secrets(channel.conf))
    try:
        config = channel_config(channel_cls, dict(channel.conf))
    except ConfigurationError as error:
        report.bad("Channel", f"{error.message}: fix {where_conf}")
        return
    report.hide(*config_secrets(config))
    at = _address(config)
    context = IntegrationContext(
        channel_id=settings.omnitron_channel_id or 0,
        catalog_id=settings.omnitron_catalog_id or 0,
        logger=logging.getLogger(f"channel_app_template.channel.{name}"),
    )
    try:
        integration = channel_cls(config, context)
    except Exception as error:
        report.bad("Channel", f"cannot build {name}: {_reason(error)}: check {where_conf}")
        return
    try:
        bounded(integration.check_connection, timeout)
    except AuthenticationError as error:
        report.bad(
            "Channel",
            f"the marketplace{at} refused our credentials ({error.message}): check the API "
            f"key/credentials in {where_conf}",
        )
    except CheckTimeout as error:
        report.bad(
            "Channel",
            f"{name}.check_connection(){at} did not finish ({error}): check the address in "
            f"{where_conf} and that the marketplace is up",
        )
    except RetryLater as error:
        cause = _reason(error)
        if error.status_code is None:
            report.bad(
                "Channel",
                f"cannot reach the marketplace{at} ({cause}): check the address in {where_conf} "
                "and that the marketplace is up",
            )
        else:
            report.bad(
                "Channel",
                f"the marketplace{at} answered {error.status_code}: it is having trouble; "
                "try again later",
            )
    except Exception as error:
        report.bad(
            "Channel", f"{name}.check_connection(){at} failed: {_reason(error)}: check {where_conf}"
        )
    else:
        report.ok("Channel", f"{name}.check_connection(){at} succeeded")
    finally:
        with contextlib.suppress(Exception):  # closing must not hide the finding
            integration.close()


# --- The command ----------------------------------------------------------------------------


NETWORK_HINTS = (
    ("connection refused", "connection refused"),
    ("errno 111", "connection refused"),
    ("name or service not known", "host name not found"),
    ("nameresolutionerror", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("temporary failure in name resolution", "host name not found"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
    ("timed out", "timed out"),
    ("timeout", "timed out"),
    ("certificate verify failed", "TLS certificate not trusted"),
    ("connection reset", "connection reset"),
    ("remotedisconnected", "connection closed by the server"),
)


def _network_reason(error: BaseException) -> str | None:
    """A short cause for a network failure, from the whole exception chain."""
    seen: list[str] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 8:
        seen.append(f"{type(current).__name__} {current}".lower())
        current = current.__cause__ or current.__context__
    text = " ".join(seen)
    for needle, reason in NETWORK_HINTS:
        if needle in text:
            return reason
    return None


def _reason(error: BaseException) -> str:
    network = _network_reason(error)
    if network is not None:
        return network
    text = error.message if isinstance(error, ChannelAppError) else str(error).split("\n")[0]
    text = text.strip()
    if len(text) > 200:
        text = text[:200] + "..."
    kind = type(error).__name__
    return f"{kind}: {text}" if text and kind not in text else (text or kind)


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    report = Report(out or sys.stdout)
    timeout = max(1.0, float(args.timeout))
    # Libraries log retries at WARNING; the report already says what happened.
    logging.getLogger("channel_app_template").setLevel(logging.ERROR)
    settings = check_settings(report)
    if settings is not None:
        check_redis(report, settings, timeout)
        channel = check_omnitron(report, settings, timeout)
        channel_cls = load_integrations(report, settings)
        if channel_cls is None:
            report.skipped("Channel", "connection not checked: the module does not load")
        elif channel is None:
            report.skipped("Channel", "connection not checked: its conf lives in Omnitron")
        else:
            check_channel(report, settings, channel_cls, channel, timeout)
    if report.problems:
        plural = "s" if report.problems > 1 else ""
        print(f"{report.problems} problem{plural} found.", file=report.out, flush=True)
        return 1
    print("All checks passed.", file=report.out, flush=True)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check settings, broker, Omnitron and the marketplace; say what to fix",
        description=(
            "Validate the settings of every process and reach the broker, Omnitron and the "
            "marketplace. One line per finding; exit status 1 if anything needs fixing."
        ),
    )
    parser.add_argument(
        "--timeout",
        type=bounded_float(1.0, 300.0),
        default=DEFAULT_CHECK_TIMEOUT,
        help="seconds allowed per check (default: %(default)s)",
    )
    parser.set_defaults(handler=run_check)
