"""``--channel-conf JSON|@file``: a channel's settings (``channel.conf``) given on a command line.

One parser for every command that takes the flag, so the form and its limits are the same
everywhere; a problem is a ``ValueError`` that says what is wrong (never echoing the value,
which may hold the channel's secrets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MAX_CONF_BYTES", "load_channel_conf", "parse_channel_conf"]

MAX_CONF_BYTES = 1024 * 1024


def parse_channel_conf(text: str, source: str = "--channel-conf") -> dict[str, Any]:
    """A JSON object of at most ``MAX_CONF_BYTES`` bytes."""
    if len(text.encode()) > MAX_CONF_BYTES:
        raise ValueError(f"{source}: limited to {MAX_CONF_BYTES} bytes")
    try:
        loaded = json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise ValueError(
            f"{source}: not valid JSON (line {getattr(exc, 'lineno', '?')}, "
            f"column {getattr(exc, 'colno', '?')})"
        ) from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{source}: must be a JSON object, not {type(loaded).__name__}")
    return loaded


def load_channel_conf(value: str) -> dict[str, Any]:
    """``'{"api_url": ...}'`` or ``@path/to/conf.json``."""
    if not value.startswith("@"):
        return parse_channel_conf(value)
    path = Path(value[1:]).expanduser()
    source = f"--channel-conf @{path}"
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"{source}: cannot read the file ({exc.strerror})") from None
    if size > MAX_CONF_BYTES:
        raise ValueError(f"{source}: limited to {MAX_CONF_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source}: cannot read the file as UTF-8 ({exc})") from None
    return parse_channel_conf(text, source)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
