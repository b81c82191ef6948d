"""The ASGI vocabulary the proxy speaks, and the short answers it gives itself.

The proxy is a plain ASGI handler (``proxy.py`` says why), so it sends its own
``http.response.*`` messages; these helpers keep every self-made answer alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from channel_app_template.api.auth import CHALLENGE
from channel_app_template.api.login import Verdict

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

RETRY_SOON = (b"retry-after", b"1")
JSON_TYPE = (b"content-type", b"application/json; charset=UTF-8")


def plain_headers(body: bytes, extra: Headers | None = None) -> Headers:
    """The headers of a plain-text answer of the proxy's own, never cached."""
    return [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]


async def respond(send: Send, status: int, body: bytes, extra: Headers | None = None) -> None:
    """A plain-text answer of the proxy's own, never cached."""
    headers = plain_headers(body, extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_whole(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """An answer read whole from Flower, re-framed with its real length."""
    kept = [(k, v) for k, v in headers if k not in (b"content-length", b"transfer-encoding")]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def refuse_login(send: Send, verdict: Verdict, retry_after: int = 0) -> None:
    """401 with a challenge, or 429 while the client is locked out."""
    if verdict is Verdict.THROTTLED:
        await respond(
            send,
            429,
            b"Too many failed logins; try again later.\n",
            [(b"retry-after", str(retry_after).encode())],
        )
    else:
        await respond(send, 401, b"Authentication required.\n", [(b"www-authenticate", CHALLENGE)])
