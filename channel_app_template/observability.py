"""Sentry set-up shared by every process, with secrets scrubbed before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from channel_app_template.redaction import (
    MIN_SECRET_LENGTH,
    REDACTED,
    REDACTOR,
    SENSITIVE_KEYS,
    Redactor,
    register_secrets,
    url_secrets,
)
from channel_app_template.settings import Settings

__all__ = [
    "REDACTED",
    "SENSITIVE_KEYS",
    "init_sentry",
    "register_settings_secrets",
    "scrub",
    "secret_values",
]


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, and the parts (passwords) that could leak alone.

    A secret that is a URL (``BROKER_URL``...) contributes its password, not the whole URL:
    the rest (host, port, database) is what every log line about a connection shows.
    """
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            text = value.get_secret_value()
            values += url_secrets(text) if _is_url(text) else [text]
    for credential in settings.flower_credentials + settings.flower_readonly_credentials:
        values.append(credential.password.get_secret_value())
    if settings.sentry_dsn is not None:  # the DSN's key is what lets anyone post events
        values += _dsn_key(settings.sentry_dsn.get_secret_value())
    return [v for v in values if len(v) >= MIN_SECRET_LENGTH]


def _is_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme and (parts.netloc or parts.path.startswith("/")))


def _dsn_key(dsn: str) -> list[str]:
    try:
        parts = urlsplit(dsn)
        return [part for part in (parts.username, parts.password) if part]
    except ValueError:
        return []


def register_settings_secrets(settings: Settings) -> None:
    """Put the settings' secrets into the process-wide redaction set."""
    register_secrets(secret_values(settings))


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """Return ``value`` with sensitive keys and the given secret strings redacted."""
    return Redactor(secrets).scrub(value)


def init_sentry(settings: Settings, integrations: Iterable[Any]) -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set; return whether it was started."""
    register_settings_secrets(settings)
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    import sentry_sdk

    def before_send(event: Any, hint: Any) -> Any:
        # The live set: secrets of the channel's config registered after start-up count too.
        return REDACTOR.scrub(event)

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        integrations=list(integrations),
        send_default_pii=False,
        include_local_variables=False,
        before_send=before_send,
        before_send_transaction=before_send,
    )
    return True
