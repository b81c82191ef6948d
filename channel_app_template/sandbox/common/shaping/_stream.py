"""The streaming kinds, ``huge_body`` and ``extra_rows``: answers too big to build in memory,
produced as chunks of bytes (made-up rows, or padding) around the app's real rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._edits import rows_of
from ._made_up_rows import row_maker

if TYPE_CHECKING:
    from ..faults import FaultRule

CHUNK = 65536
_SENTINEL = "\x00rows\x00"


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _split(body: Any) -> tuple[bytes, list[bytes], bytes, list[Any]] | None:
    """(bytes before the first row, each real row, bytes after the last, the rows)."""
    rows = rows_of(body)
    if rows is None:
        return None
    if isinstance(body, list):
        head, tail = b"[", b"]"
    else:
        key = "results" if isinstance(body.get("results"), list) else "items"
        text = dumps({**body, key: [_SENTINEL]})
        marker = dumps(_SENTINEL)
        before, after = text.split(marker, 1)
        head, tail = before, after
    return head, [dumps(r) for r in rows], tail, rows


def _buffered(pieces: Iterator[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= CHUNK:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _padded_object(body: dict[str, Any], size: int) -> tuple[int, Iterator[bytes]]:
    text = dumps({**body, "_padding": _SENTINEL})
    head, tail = text.split(dumps(_SENTINEL), 1)
    fill = max(0, size - len(head) - len(tail) - 2)

    def pieces() -> Iterator[bytes]:
        yield head + b'"'
        left = fill
        while left > 0:
            step = min(left, CHUNK)
            yield b"x" * step
            left -= step
        yield b'"' + tail

    return len(head) + len(tail) + 2 + fill, _buffered(pieces())


def stream(rule: FaultRule, body: Any) -> tuple[int | None, Iterator[bytes]]:
    """``huge_body`` / ``extra_rows``: (Content-Length or None for chunked, the chunks)."""
    parts = _split(body)
    if parts is None:
        if rule.action == "huge_body" and isinstance(body, dict):
            length, chunks = _padded_object(body, int(rule.params["size_bytes"]))
            return (None if rule.params["chunked"] else length), chunks
        data = dumps(body)
        return len(data), iter([data])
    head, real, tail, rows = parts
    make = row_maker(rows)
    if rule.action == "extra_rows":
        wanted = int(rule.params["rows"])

        def counted() -> Iterator[bytes]:
            yield head
            yield b",".join(real)
            for n in range(max(0, wanted - len(real))):
                yield (b"," if (real or n) else b"") + make(n)
            yield tail

        return None, _buffered(counted())
    size = int(rule.params["size_bytes"])
    natural = len(head) + len(b",".join(real)) + len(tail)
    total = max(size, natural)

    def sized() -> Iterator[bytes]:
        yield head
        joined = b",".join(real)
        yield joined
        used = len(head) + len(joined) + len(tail)
        n = 0
        while True:
            row = (b"," if (real or n) else b"") + make(n)
            if used + len(row) > total:
                break
            yield row
            used += len(row)
            n += 1
        yield b" " * (total - used)  # JSON allows whitespace before the closing bracket
        yield tail

    return (None if rule.params["chunked"] else total), _buffered(sized())
