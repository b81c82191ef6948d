"""The process's one set of secrets, and the functions that take them out of anything.

Secrets are known in two ways: the settings (read at start-up) and the channel's own
configuration (read from Omnitron when a task opens its runtime, so in the worker's child
process). Both go into :data:`REDACTOR`, which every way out of the process uses: log
formatters, Sentry's ``before_send``, task results and exceptions before Celery stores or
emits them, and the CLI. A secret is also looked for in the forms it takes once escaped
(JSON, ``repr``, URL quoting), because that is how it reaches a traceback or an event.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

from pydantic import BaseModel, SecretStr

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "REDACTOR",
    "SECRET_KEY_NAMES",
    "SENSITIVE_KEYS",
    "Redactor",
    "config_secrets",
    "redact",
    "redact_exception",
    "register_secrets",
    "scrub",
    "url_secrets",
]

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words everywhere
MAX_SECRETS = 1024  # a bound on the set: channel confs may change over a process's life
# Keys whose value is dropped wherever they appear (Sentry events, log extras, task metas).
SENSITIVE_KEYS = re.compile(
    r"pass|secret|token|authorization|cookie|api[-_]?key|dsn|credential|session",
    re.IGNORECASE,
)
# Keys of a channel's configuration whose string values are secrets, at any depth.
SECRET_KEY_NAMES = re.compile(r"key|token|secret|password|passwd", re.IGNORECASE)
MAX_DEPTH = 32  # nested data deeper than this is replaced, not walked


def _variants(secret: str) -> set[str]:
    """The secret as it appears raw, JSON-escaped, in a ``repr`` and URL-quoted."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}
    forms |= {quote(secret, safe=""), quote_plus(secret, safe="")}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """A thread-safe set of secrets and one compiled pattern that finds any of them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, None] = {}  # insertion-ordered, for eviction
        # One attribute, replaced whole, so readers never see a pattern and a list that
        # disagree while another thread adds a secret.
        self._state: tuple[re.Pattern[str] | None, tuple[str, ...]] = (None, ())
        self.add(secrets)

    def add(self, secrets: Iterable[str | SecretStr | None]) -> None:
        with self._lock:
            changed = False
            for value in secrets:
                text = value.get_secret_value() if isinstance(value, SecretStr) else value
                if not isinstance(text, str) or len(text) < MIN_SECRET_LENGTH:
                    continue
                for form in _variants(text):
                    if form not in self._secrets:
                        self._secrets[form] = None
                        changed = True
            while len(self._secrets) > MAX_SECRETS:
                del self._secrets[next(iter(self._secrets))]
            if changed:
                # Longest first, so a secret containing another is replaced whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                pattern = re.compile("|".join(map(re.escape, ordered)))
                self._state = (pattern, tuple(ordered))

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._state = (None, ())

    @property
    def secrets(self) -> list[str]:
        with self._lock:
            return list(self._secrets)

    def redact(self, text: str) -> str:
        pattern, secrets = self._state
        # Substring tests are fast C scans; most text holds no secret and skips the regex.
        if pattern is None or not any(secret in text for secret in secrets):
            return text
        return pattern.sub(REDACTED, text)

    def scrub(self, value: Any, _depth: int = 0) -> Any:
        """``value`` with every known secret and every sensitive key's value replaced."""
        if _depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED
                if isinstance(key, str) and SENSITIVE_KEYS.search(key)
                else self.scrub(item, _depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(item, _depth + 1) for item in value)
        if isinstance(value, SecretStr):
            return REDACTED
        return value


#: The process-wide set every exit point uses.
REDACTOR = Redactor()


def register_secrets(values: Iterable[str | SecretStr | None]) -> None:
    REDACTOR.add(values)


def redact(text: str) -> str:
    return REDACTOR.redact(text)


def scrub(value: Any) -> Any:
    return REDACTOR.scrub(value)


def url_secrets(url: str | SecretStr | None) -> list[str]:
    """The password of a URL, as written (percent-encoded) and decoded."""
    text = url.get_secret_value() if isinstance(url, SecretStr) else url
    if not text:
        return []
    try:
        password = urlsplit(text).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def config_secrets(config: Any, _depth: int = 0) -> list[str]:
    """Every secret of a channel's configuration: values typed ``SecretStr`` and string
    values under keys like ``*key*``, ``*token*``, ``*secret*``, ``*password*``, at any
    depth (a model, a mapping, a list)."""
    if _depth > MAX_DEPTH:
        return []
    found: list[str] = []
    if isinstance(config, SecretStr):
        return [config.get_secret_value()]
    items: Iterable[tuple[Any, Any]]
    if isinstance(config, BaseModel):
        extra = getattr(config, "model_extra", None) or {}
        fields = [(name, getattr(config, name)) for name in type(config).model_fields]
        items = [*fields, *extra.items()]
    elif isinstance(config, Mapping):
        items = config.items()
    elif isinstance(config, list | tuple | set | frozenset):
        items = ((None, item) for item in config)
    else:
        return []
    for key, value in items:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, str):
            if isinstance(key, str) and SECRET_KEY_NAMES.search(key):
                found.append(value)
        else:
            found += config_secrets(value, _depth + 1)
    return found


class RedactedError(Exception):
    """Stands in for an exception whose text still held a secret after redaction."""


def _clean_args(exc: BaseException) -> tuple[Any, ...]:
    return tuple(REDACTOR.scrub(arg) for arg in exc.args)


def redact_exception(exc: BaseException, _depth: int = 0) -> BaseException:
    """``exc`` if no secret shows in it or in its chain, else a copy without them.

    The copy keeps the type, the traceback (frames and source lines hold no values) and a
    redacted chain, so a stored traceback stays useful. An exception whose text cannot be
    cleaned through its arguments is replaced by :class:`RedactedError` with its redacted
    text.
    """
    cause = exc.__cause__
    context = exc.__context__
    new_cause = redact_exception(cause, _depth + 1) if cause and _depth < 8 else None
    new_context = (
        redact_exception(context, _depth + 1)
        if context is not None and context is not cause and _depth < 8
        else (new_cause if context is cause else None)
    )
    text, shown = _text(exc)
    clean = REDACTOR.redact(text) == text and REDACTOR.redact(shown) == shown
    if clean and new_cause is cause and new_context is context:
        return exc
    replacement = exc if clean else _copy_without_secrets(exc)
    replacement.__cause__ = new_cause
    replacement.__context__ = new_context
    replacement.__suppress_context__ = exc.__suppress_context__
    return replacement


def _text(exc: BaseException) -> tuple[str, str]:
    try:
        return str(exc), repr(exc)
    except Exception:  # a broken __str__ must not stop the redaction
        return type(exc).__name__, type(exc).__name__


def _copy_without_secrets(exc: BaseException) -> BaseException:
    candidate: BaseException | None
    try:
        candidate = type(exc).__new__(type(exc))
        candidate.__dict__.update(REDACTOR.scrub(dict(vars(exc))))
        candidate.args = _clean_args(exc)
        for name in ("message", "payload"):  # the project's own errors keep these too
            if hasattr(exc, name):
                setattr(candidate, name, REDACTOR.scrub(getattr(exc, name)))
        text, shown = _text(candidate)
        if REDACTOR.redact(text) != text or REDACTOR.redact(shown) != shown:
            candidate = None
    except Exception:
        candidate = None
    if candidate is None:
        candidate = RedactedError(f"{type(exc).__name__}: {REDACTOR.redact(_text(exc)[0])}")
    return candidate.with_traceback(exc.__traceback__)
