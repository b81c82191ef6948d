"""The matching key: how an Omnitron product is recognised on the channel.

``channel.conf["remote_id_attribute"]`` names it: ``sku`` (the default), or a path with
``__`` between steps such as ``attributes__barcode``.
"""

from __future__ import annotations

from typing import Any


def match_key(obj: Any, path: str) -> str | None:
    """The value at ``path`` as a non-empty string, or ``None`` when there is none."""
    value: Any = obj
    for step in path.split("__"):
        if value is None:
            return None
        value = value.get(step) if isinstance(value, dict) else getattr(value, step, None)
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
