"""The parsers behind the settings' field checks: URLs, hosts, credentials, DSNs.

Their messages never contain any part of the value: a value typed in the wrong place (a
password as a user name, a key in a URL) is a secret. Kept apart from
:mod:`channel_app_template.settings` so that the declarations read as one table.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pydantic import SecretStr

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MAX_REDIS_DB",
    "credential_problems",
    "is_loopback",
    "url_parts",
    "valid_host",
    "valid_http_url",
    "valid_redis_url",
    "valid_sentry_dsn",
]

HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
USER_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,150}$")
MIN_FLOWER_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_CREDENTIALS = 32
MAX_REDIS_DB = 255
REDIS_SCHEMES = ("redis", "rediss", "redis+socket")


def credential_problems(raw: SecretStr) -> list[str]:
    items = raw.get_secret_value().split(",")
    if len(items) > MAX_CREDENTIALS:
        return [f"at most {MAX_CREDENTIALS} user:password entries"]
    problems = []
    for position, item in enumerate(items, start=1):
        username, separator, password = item.strip().partition(":")
        if not separator or not username:
            problems.append(f"entry {position} must look like user:password")
        elif not USER_NAME.match(username):
            problems.append(
                f"entry {position}: the user name (before the first ':') may have 1-150 "
                "letters, digits and . _ @ + - only; is the entry the wrong way round?"
            )
        elif not MIN_FLOWER_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            problems.append(
                f"entry {position}: the password must have at least "
                f"{MIN_FLOWER_PASSWORD_LENGTH} characters (and at most {MAX_PASSWORD_LENGTH})"
            )
    return problems


def valid_host(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        labels = host.rstrip(".").split(".")
        # An all-digit last label is an IPv4 address or nothing (RFC 3696, section 2).
        return all(HOST_LABEL.match(label) for label in labels) and not labels[-1].isdigit()
    return True


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_parts(value: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path) or ValueError with a message that shows none of them."""
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("is not a valid URL (is the port a number from 1 to 65535?)") from None
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    return parts.scheme, parts.hostname or "", port, parts.path


def valid_http_url(value: str | None, *, require_https: bool) -> str | None:
    if value is None:
        return None
    scheme, host, _, _ = url_parts(value)
    if scheme not in ("http", "https") or not host:
        raise ValueError("must be an http(s) URL with a host, e.g. https://app.example.com")
    if not valid_host(host):
        raise ValueError("the host is not a valid host name or IP address")
    if require_https and scheme != "https" and not is_loopback(host):
        raise ValueError("must use https (plain http is accepted only for localhost)")
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; use the dedicated settings")
    return value


def valid_redis_url(value: str) -> None:
    schemes = ", ".join(s + "://" for s in REDIS_SCHEMES)
    scheme, host, _, path = url_parts(value)
    if scheme not in REDIS_SCHEMES:
        raise ValueError(f"must be a Redis URL ({schemes})")
    if scheme == "redis+socket":
        if not path.startswith("/"):
            raise ValueError("a redis+socket:// URL needs the socket's absolute path")
        return
    if not host or not valid_host(host):
        raise ValueError("needs a valid host name or IP address, e.g. redis://host:6379/0")
    database = path.strip("/")
    if database and not (database.isdigit() and int(database) <= MAX_REDIS_DB):
        raise ValueError(f"the database (the path) must be a number from 0 to {MAX_REDIS_DB}")


def valid_sentry_dsn(value: str) -> None:
    """Sentry's DSN shape: ``http(s)://<public key>[:<secret>]@<host>[:port]/[path/]<project>``."""
    problem = "is not a Sentry DSN (https://<key>@<host>/<project id>, from Sentry's settings)"
    try:
        scheme, host, _, path = url_parts(value)
        key = urlsplit(value).username
    except ValueError as error:
        raise ValueError(f"{problem}: it {error}") from None
    project = path.rstrip("/").rsplit("/", 1)[-1]
    if scheme not in ("http", "https") or not key or not valid_host(host):
        raise ValueError(problem)
    if not project.isdigit():
        raise ValueError(problem)
