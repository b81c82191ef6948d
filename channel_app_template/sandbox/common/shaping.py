"""Fault rules that rewrite a request or reshape an answer: peers that page forever, ignore
``page``, answer with the wrong shape, huge bodies or odd values.

Each kind is a pure function of the app's JSON answer (and the request), applied by
:class:`~.faults.FaultMiddleware` to 2xx JSON answers only; errors pass unchanged. Paging
pointers are recognised in both simulators' shapes: Omnitron's DRF envelope (``count``,
``next`` URL, ``results``), and the marketplace's ``items`` with ``next_cursor`` or
``next_offset``. "Rows" are ``results``, ``items`` or a bare JSON list.

====================  =====================================================================
kind                  parameters (defaults) and effect
====================  =====================================================================
``ignore_page``       ``params`` (``["page", "offset", "cursor"]``): these query parameters
                      are removed before the app sees the request, so every page is page 1
                      (and its pointer says there is more, as on page 1)
``repeat_next``       ``value`` (none): the pointer never moves: ``next`` is the request's own
                      URL, ``next_cursor`` the cursor sent (else the answer's, else ``"0"``),
                      ``next_offset`` the offset sent (else 0); ``value`` replaces any of them
``empty_page``        no rows, and a pointer that still moves forward (``page`` + 1, cursor
                      + 1, offset + limit); ``page`` is ignored so every page answers 200
``wrong_shape``       ``shape`` (``list``): ``list`` -> ``[answer]`` (a list where an object is
                      expected), ``object`` -> ``{"unexpected": answer}``, ``string``,
                      ``null``, ``number`` (42), ``rows_as_lists`` (each row a list of values)
``drop_field``        ``field`` (``pk``), ``row`` (all), ``match`` (none): the field is removed
                      from the chosen rows (or from an object answer)
``set_field``         ``field``, ``value`` (both required), ``row``, ``match``: the field is set
                      to ``value`` (any JSON, e.g. ``modified_date: "2099-01-01T00:00:00Z"``)
``huge_body``         ``size_bytes`` (10 MiB, max 1 GiB), ``chunked`` (false): the rows are
                      followed by made-up rows (copies of the first with ``pk``/``id``/
                      ``number``/``sku`` counted on) until the body has that size; an object
                      answer gets a ``_padding`` string; streamed, with ``Content-Length``
                      unless ``chunked``
``extra_rows``        ``rows`` (10,000, max 10,000,000): made-up rows until the answer has that
                      many, whatever ``limit`` asked for; streamed (chunked)
====================  =====================================================================

``row`` is an index into the rows; ``match`` an object the row must contain (``{"pk": 5}``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .faults import FaultRule

__all__ = ["KINDS", "PARAMS", "RequestContext", "apply", "check", "respond", "rows_of"]

KINDS = frozenset(
    {
        "ignore_page",
        "repeat_next",
        "empty_page",
        "wrong_shape",
        "drop_field",
        "set_field",
        "huge_body",
        "extra_rows",
    }
)
STREAMS = frozenset({"huge_body", "extra_rows"})
SHAPES = ("list", "object", "string", "null", "number", "rows_as_lists")
VARIED_KEYS = ("pk", "id", "number", "sku")  # counted on in made-up rows
MAX_BODY_BYTES = 2**30
MAX_ROWS = 10_000_000
MAX_VALUE_BYTES = 100_000
CHUNK = 65536
REQUIRED = "__required__"
_SENTINEL = "\x00rows\x00"

Parser = Callable[[str, Any], Any]


# ----------------------------------------------------------------------------- parameters
def int_in(name: str, lo: int, hi: int) -> Parser:
    def parse(_: str, value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer within [{lo}, {hi}]")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer within [{lo}, {hi}]") from None
        if not lo <= number <= hi:
            raise ValueError(f"{name} must be within [{lo}, {hi}]")
        return number

    return parse


def _optional_index(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(int_in(name, 0, 1_000_000)(name, value))


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{name} must be true or false")


def _field_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise ValueError(f"{name} is a field name of 1-200 characters")
    return value


def _shape(name: str, value: Any) -> str:
    if value not in SHAPES:
        raise ValueError(f"{name} must be one of {list(SHAPES)}")
    return str(value)


def _json_value(name: str, value: Any) -> Any:
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a JSON value") from None
    if size > MAX_VALUE_BYTES:
        raise ValueError(f"{name} is limited to {MAX_VALUE_BYTES} bytes of JSON")
    return value


def _names(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list) or not value or len(value) > 20:
        raise ValueError(f"{name} is a list of 1-20 query parameter names")
    return [_field_name(name, item) for item in value]


def _match(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 20:
        raise ValueError(f"{name} is an object of up to 20 field: value pairs")
    return {str(k): _json_value(name, v) for k, v in value.items()}


ROW_PARAMS: dict[str, tuple[Parser, Any]] = {
    "row": (_optional_index, None),
    "match": (_match, None),
}
PARAMS: dict[str, dict[str, tuple[Parser, Any]]] = {
    "ignore_page": {"params": (_names, ["page", "offset", "cursor"])},
    "repeat_next": {"value": (_json_value, None)},
    "empty_page": {},
    "wrong_shape": {"shape": (_shape, "list")},
    "drop_field": {"field": (_field_name, "pk"), **ROW_PARAMS},
    "set_field": {"field": (_field_name, REQUIRED), "value": (_json_value, REQUIRED), **ROW_PARAMS},
    "huge_body": {
        "size_bytes": (int_in("size_bytes", 1, MAX_BODY_BYTES), 10 * 2**20),
        "chunked": (_boolean, False),
    },
    "extra_rows": {"rows": (int_in("rows", 1, MAX_ROWS), 10_000)},
}


def check(action: str, params: dict[str, Any]) -> None:
    """Refuse a rule whose required parameters are missing."""
    missing = [name for name, value in params.items() if value is REQUIRED]
    if missing:
        raise ValueError(f"action {action!r} needs {missing}")


# ----------------------------------------------------------------------------- the request
@dataclass(frozen=True)
class RequestContext:
    """The request as the client sent it: to build ``next`` links and read its position."""

    base_url: str
    query: tuple[tuple[str, str], ...]

    @classmethod
    def from_scope(cls, scope: Scope) -> RequestContext:
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        base = f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}"
        raw = scope.get("query_string", b"").decode("latin-1")
        return cls(base, tuple(parse_qsl(raw, keep_blank_values=True)))

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def url(self, **changes: str) -> str:
        kept = [(k, v) for k, v in self.query if k not in changes]
        kept += list(changes.items())
        return f"{self.base_url}?{urlencode(kept)}" if kept else self.base_url


def rewrite_request(scope: Scope, shapers: list[FaultRule]) -> Scope:
    """Drop the query parameters ``ignore_page`` (and ``empty_page``: ``page``) name."""
    dropped: set[str] = set()
    for rule in shapers:
        if rule.action == "ignore_page":
            dropped.update(rule.params["params"])
        elif rule.action == "empty_page":
            dropped.add("page")
    if not dropped:
        return scope
    raw = scope.get("query_string", b"").decode("latin-1")
    kept = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True) if k not in dropped]
    return {**scope, "query_string": urlencode(kept).encode("latin-1")}


# ----------------------------------------------------------------------------- the answer
def rows_of(body: Any) -> list[Any] | None:
    """The rows of a list answer: ``results``, ``items`` or the bare list."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("results", "items"):
            if isinstance(body.get(key), list):
                rows: list[Any] = body[key]
                return rows
    return None


def _safe_int(text: Any, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _repeat(body: Any, context: RequestContext, value: Any) -> Any:
    if not isinstance(body, dict):
        return body
    if "next" in body:
        body["next"] = value if value is not None else context.url()
    if "next_cursor" in body:
        own = context.param("cursor") or body["next_cursor"] or "0"
        body["next_cursor"] = value if value is not None else own
    if "next_offset" in body:
        own_offset = _safe_int(context.param("offset"), 0)
        body["next_offset"] = value if value is not None else own_offset
    return body


def _empty(body: Any, context: RequestContext) -> Any:
    if isinstance(body, list):
        return []
    if not isinstance(body, dict):
        return body
    for key in ("results", "items"):
        if isinstance(body.get(key), list):
            body[key] = []
    if "next" in body:
        body["next"] = context.url(page=str(_safe_int(context.param("page"), 1) + 1))
    if "next_cursor" in body:
        body["next_cursor"] = str(_safe_int(context.param("cursor"), 0) + 1)
    if "next_offset" in body:
        limit = _safe_int(context.param("limit"), _safe_int(body.get("limit"), 100))
        body["next_offset"] = _safe_int(context.param("offset"), 0) + max(limit, 1)
    return body


def _wrong_shape(body: Any, shape: str) -> Any:
    if shape == "list":
        return [body]
    if shape == "object":
        return {"unexpected": body}
    if shape == "string":
        return json.dumps(body)
    if shape == "null":
        return None
    if shape == "number":
        return 42
    rows = rows_of(body)
    if rows is not None:
        rows[:] = [list(row.values()) if isinstance(row, dict) else row for row in rows]
    return body


def _targets(body: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = rows_of(body)
    if rows is None:
        candidates = [(0, body)] if isinstance(body, dict) else []
    else:
        candidates = [(i, r) for i, r in enumerate(rows) if isinstance(r, dict)]
    index, match = params.get("row"), params.get("match")
    out = []
    for position, row in candidates:
        if index is not None and position != index:
            continue
        if match and any(row.get(k) != v for k, v in match.items()):
            continue
        out.append(row)
    return out


def apply(rule: FaultRule, body: Any, context: RequestContext) -> Any:
    """One non-streaming shaping rule applied to a decoded JSON answer."""
    params = rule.params
    if rule.action == "repeat_next":
        return _repeat(body, context, params["value"])
    if rule.action == "empty_page":
        return _empty(body, context)
    if rule.action == "wrong_shape":
        return _wrong_shape(body, params["shape"])
    if rule.action == "drop_field":
        for row in _targets(body, params):
            row.pop(params["field"], None)
    elif rule.action == "set_field":
        for row in _targets(body, params):
            row[params["field"]] = params["value"]
    return body


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


# ----------------------------------------------------------------------------- made-up rows
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


def _row_maker(rows: list[Any]) -> Callable[[int], bytes]:
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


def _split(body: Any) -> tuple[bytes, list[bytes], bytes, list[Any]] | None:
    """(bytes before the first row, each real row, bytes after the last, the rows)."""
    rows = rows_of(body)
    if rows is None:
        return None
    if isinstance(body, list):
        head, tail = b"[", b"]"
    else:
        key = "results" if isinstance(body.get("results"), list) else "items"
        text = _dumps({**body, key: [_SENTINEL]})
        marker = _dumps(_SENTINEL)
        before, after = text.split(marker, 1)
        head, tail = before, after
    return head, [_dumps(r) for r in rows], tail, rows


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
    text = _dumps({**body, "_padding": _SENTINEL})
    head, tail = text.split(_dumps(_SENTINEL), 1)
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
        data = _dumps(body)
        return len(data), iter([data])
    head, real, tail, rows = parts
    make = _row_maker(rows)
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


# ----------------------------------------------------------------------------- the middleware part
async def respond(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    shapers: list[FaultRule],
    context: RequestContext,
    watcher: Any,
) -> None:
    """Run the app, then answer with its JSON reshaped by ``shapers`` (2xx JSON only)."""
    start: Message | None = None
    parts: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, capture)
    if start is None:
        return
    raw = b"".join(parts)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    body: Any = None
    usable = 200 <= int(start["status"]) < 300 and b"json" in content_type.lower()
    if usable:
        try:
            body = json.loads(raw)
        except ValueError:
            usable = False
    if not usable:
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})
        return
    streamer: FaultRule | None = None
    for rule in shapers:
        if rule.action in STREAMS:
            streamer = rule
        elif rule.action != "ignore_page":
            body = apply(rule, body, context)
    if streamer is None:
        data = _dumps(body)
        await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
        return
    length, chunks = stream(streamer, body)
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    await send({**start, "headers": headers})
    watcher.start()
    for chunk in chunks:
        if watcher.gone:
            return
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        # yield every chunk: other requests keep being served, and the disconnect watcher
        # gets to run (a server's send may return at once, e.g. once the client is gone)
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
