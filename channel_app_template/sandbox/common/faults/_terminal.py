"""The terminal faults' answers: an injected error, a closed connection, a lost response, and
a ``slow`` answer whose body trickles out; the wrapped app never answers the client itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Send

from ._rule import ERROR_BODIES, FaultRule


class ConnectionDropped(Exception):
    """Raised when no server transport can be closed (in-process test clients)."""


def drf_error_body(status: int) -> dict[str, Any]:
    """Omnitron's (DRF's) error bodies for injected statuses; the default."""
    return ERROR_BODIES[status]


async def swallow(message: Message) -> None:
    """Let the app finish its write, then discard what it would have answered."""


async def send_error(send: Send, rule: FaultRule, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rule.status == 429 or rule.retry_after is not None:
        retry = 1 if rule.retry_after is None else rule.retry_after
        headers.append((b"retry-after", str(retry).encode()))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def drop(receive: Receive) -> None:
    """Close the client's TCP connection without a byte of response.

    uvicorn hands the app its cycle's bound ``receive``; through it we reach the transport and
    mark the cycle disconnected so uvicorn does not write a 500 afterwards.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("connection dropped by the fault layer")
    cycle.disconnected = True  # type: ignore[union-attr]
    transport.close()


def trickle(send: Send, total_ms: int) -> Send:
    async def slow_send(message: Message) -> None:
        if message["type"] != "http.response.body" or not message.get("body"):
            await send(message)
            return
        body: bytes = message["body"]
        chunks = [body[i : i + 64] for i in range(0, len(body), 64)] or [b""]
        pause = max(total_ms, 1) / 1000 / len(chunks)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await send(
                {
                    "type": "http.response.body",
                    "body": chunk,
                    "more_body": (not last) or bool(message.get("more_body")),
                }
            )
            if not last:
                await asyncio.sleep(pause)

    return slow_send
