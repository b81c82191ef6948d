"""Made-up rows for the streaming kinds: copies of a real row whose identifying keys count on
past every real value, so a client that de-duplicates by key sees them as new rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

VARIED_KEYS = ("pk", "id", "number", "sku")  # counted on in made-up rows


def _counter(rows: list[Any], key: str, sample: Any) -> Callable[[int], Any]:
    """Values for ``key`` in made-up row ``n``: past every real row's value."""
    if isinstance(sample, int) and not isinstance(sample, bool):
        top = max(
            (r[key] for r in rows if isinstance(r, dict) and type(r.get(key)) is int),
            default=0,
        )
        return lambda n: top + 1 + n
    found = re.match(r"^(.*?)(\d+)$", str(sample))
    if found is None:
        text = str(sample)
        return lambda n: f"{text}-{n + 1}"
    prefix, digits = found.group(1), found.group(2)
    top = 0
    for row in rows:
        value = row.get(key) if isinstance(row, dict) else None
        other = re.match(r"^(.*?)(\d+)$", str(value)) if isinstance(value, str) else None
        if other is not None and other.group(1) == prefix:
            top = max(top, int(other.group(2)))
    width = len(digits)
    return lambda n: f"{prefix}{str(top + 1 + n).zfill(width)}"


def row_maker(rows: list[Any]) -> Callable[[int], bytes]:
    """Made-up row ``n`` as bytes: the first real row with its identifying keys counted on."""
    template = next((r for r in rows if isinstance(r, dict)), None)
    if template is None:
        template = {"pk": 0}
    varied = [
        key
        for key in VARIED_KEYS
        if isinstance(template.get(key), int | str) and not isinstance(template.get(key), bool)
    ]
    marked = dict(template)
    tokens: list[tuple[str, Callable[[int], Any]]] = []
    for number, key in enumerate(varied):
        placeholder = f"\x00{number}\x00"
        marked[key] = placeholder
        tokens.append(
            (json.dumps(placeholder, ensure_ascii=False), _counter(rows, key, template[key]))
        )
    text = json.dumps(marked, separators=(",", ":"), ensure_ascii=False)

    def make(n: int) -> bytes:
        out = text
        for token, value in tokens:
            out = out.replace(token, json.dumps(value(n), ensure_ascii=False))
        return out.encode()

    return make
