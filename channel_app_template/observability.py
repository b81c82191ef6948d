"""Sentry set-up shared by every process, with secrets scrubbed before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import SecretStr

from channel_app_template.settings import Settings

SENSITIVE_KEYS = re.compile(
    r"pass|secret|token|authorization|cookie|api[-_]?key|dsn|credential|session",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, and the parts (passwords) that could leak alone."""
    values: list[str] = []
    for value in settings.model_dump().values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    for credential in settings.flower_credentials + settings.flower_readonly_credentials:
        values.append(credential.password.get_secret_value())
    return [v for v in values if len(v) >= 4]


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """Return ``value`` with sensitive keys and any known secret string redacted."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and SENSITIVE_KEYS.search(key)
            else scrub(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(item, secrets) for item in value)
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    return value


def init_sentry(settings: Settings, integrations: Iterable[Any]) -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set; return whether it was started."""
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    import sentry_sdk

    secrets = secret_values(settings)

    def before_send(event: Any, hint: Any) -> Any:
        return scrub(event, secrets)

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
