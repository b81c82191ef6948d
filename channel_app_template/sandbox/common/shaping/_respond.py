"""The shaping step of the fault middleware: run the app, capture its answer, then send it
reshaped (whole, or streamed for ``huge_body`` / ``extra_rows``) when it is 2xx JSON.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._edits import apply
from ._params import STREAMS
from ._request import RequestContext
from ._stream import dumps, stream

if TYPE_CHECKING:
    from ..faults import FaultRule


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
        data = dumps(body)
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
