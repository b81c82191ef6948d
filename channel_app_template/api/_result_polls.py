"""The waits the proxy takes over from Flower (``waits.py`` says why and which).

A result wait or a synchronous ``apply`` becomes short polls of the task's result, so
Flower's few threads are never held while a task runs; an inspection of a worker that
is not online is answered here, without asking Flower.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import aiohttp

from channel_app_template.api._asgi import (
    JSON_TYPE,
    Headers,
    Receive,
    Scope,
    Send,
    respond,
    send_whole,
)
from channel_app_template.api._config import ProxyConfig
from channel_app_template.api._exchange import Exchange, read_body
from channel_app_template.api._forward import Forwarder
from channel_app_template.api._headers import host_only
from channel_app_template.api._paths import PREFIX
from channel_app_template.api._upstream import Answer, read_capped
from channel_app_template.api.waits import (
    APPLY_PREFIX,
    ASYNC_APPLY_PREFIX,
    FIRST_POLL_DELAY,
    MAX_POLL_DELAY,
    RESULT_PREFIX,
    BadWait,
    OnlineWorkers,
    apply_answer,
    inspected_worker,
    is_ready,
    query_values,
    requested_timeout,
    task_id_of,
    without_parameter,
)

# A poll answer bigger than this holds a result: it is streamed, not parsed.
POLL_BUFFER_BYTES = 64 * 1024


class ResultPolls:
    """Serves result waits and ``apply`` by polling, and screens worker inspections."""

    def __init__(self, config: ProxyConfig, forwarder: Forwarder) -> None:
        self.config = config
        self.forwarder = forwarder
        self.upstream = forwarder.upstream
        self.headers = forwarder.headers
        self.online_workers = OnlineWorkers(self._worker_status)

    async def inspects_an_unavailable_worker(self, send: Send, path: bytes, query: bytes) -> bool:
        """Answer 404 for an inspection of a worker Flower does not list as online: it
        would hold Flower's threads a second per inspect for replies that never come."""
        worker = inspected_worker(path, query)
        if not worker:
            return False
        try:
            online = await self.online_workers.names()
        except (TimeoutError, aiohttp.ClientError, ValueError):
            await respond(send, 502, b"Flower is unreachable.\n")
            return True
        if worker in online:
            return False
        await respond(send, 404, b"Unknown or offline worker.\n")
        return True

    async def _worker_status(self) -> dict[str, bool]:
        status, _, body = await self.upstream.fetch(
            "GET", PREFIX + b"/api/workers", b"status=1", []
        )
        data = json.loads(body) if status == 200 else None
        if not isinstance(data, dict):
            raise ValueError(f"Flower answered {status} to the worker list")
        return {str(name): bool(online) for name, online in data.items()}

    async def wait_for_result(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: bytes,
        query: bytes,
        headers: Headers,
    ) -> None:
        values = query_values(query, "timeout")
        try:
            wanted = requested_timeout(values[-1]) if values else None
        except BadWait as error:
            await respond(send, 400, str(error).encode() + b"\n")
            return
        stripped = without_parameter(query, "timeout")
        if not wanted or wanted <= 0:  # Flower reads at once too
            await self.forwarder.forward(scope, receive, send, path, stripped, headers, False)
            return
        wait = min(wanted, self.config.waits.max_wait)
        poll_headers = self.headers.request(scope, host_only(headers), None, False)

        async def work(exchange: Exchange) -> None:
            answer = await self._poll(path, stripped, poll_headers, wait, stream_big=True)
            if isinstance(answer, aiohttp.ClientResponse):
                try:
                    await self.forwarder.stream_response(send, answer, exchange)
                finally:
                    answer.release()
            else:
                status, raw_headers, body = answer
                await send_whole(send, status, self.headers.response(raw_headers), body)

        await self.forwarder.watched(receive, send, work)

    async def apply(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: bytes,
        query: bytes,
        headers: Headers,
    ) -> None:
        """Flower's synchronous ``apply``, without holding Flower while the task runs:
        ``async-apply``, then the proxy polls the result; the answer has apply's shape."""
        body = await read_body(receive, send, headers, self.config.max_body_bytes)
        if body is None:
            return
        wait = self.config.waits.max_wait
        try:
            options = json.loads(body) if body.strip() else {}
        except ValueError:
            options = None  # async-apply answers Flower's own 400 for it
        if isinstance(options, dict) and "timeout" in options:
            try:
                wanted = requested_timeout(options.pop("timeout"))
            except BadWait as error:
                await respond(send, 400, str(error).encode() + b"\n")
                return
            if wanted is not None:
                wait = min(max(wanted, 0.0), wait)
            body = json.dumps(options).encode()
        publish = ASYNC_APPLY_PREFIX + path[len(APPLY_PREFIX) :]
        publish_headers = self.headers.request(scope, headers, str(len(body)).encode(), False)
        poll_headers = self.headers.request(scope, host_only(headers), None, False)

        async def work(exchange: Exchange) -> None:
            status, raw_headers, answer = await self.upstream.fetch(
                "POST", publish, query, publish_headers, body
            )
            task_id = task_id_of(answer) if status == 200 else None
            if task_id is None:  # Flower's own refusal (404 unknown task, 400...) as is
                await send_whole(send, status, self.headers.response(raw_headers), answer)
                return
            result_path = RESULT_PREFIX + quote(task_id, safe="").encode()
            polled = await self._poll(result_path, b"", poll_headers, wait, stream_big=False)
            assert not isinstance(polled, aiohttp.ClientResponse)
            status, raw_headers, answer = polled
            reply = apply_answer(task_id, answer) if status == 200 else None
            if reply is None:
                await send_whole(send, status, self.headers.response(raw_headers), answer)
            else:
                await send_whole(send, 200, [JSON_TYPE], reply)

        await self.forwarder.watched(receive, send, work)

    async def _poll(
        self,
        path: bytes,
        query: bytes,
        headers: list[tuple[str, str]],
        wait: float,
        *,
        stream_big: bool,
    ) -> Answer | aiohttp.ClientResponse:
        """Read a task's result until it is ready or ``wait`` seconds have passed; each
        read returns at once, so Flower is never held. Returns the last answer, or, for
        an answer too big to buffer (``stream_big``), the response to stream."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        delay = FIRST_POLL_DELAY
        while True:
            response = await self.upstream.open("GET", path, query, headers)
            big = (response.content_length or 0) > POLL_BUFFER_BYTES
            if stream_big and (big or response.status != 200):
                return response  # the caller streams and releases it
            try:
                body = await read_capped(response)
            finally:
                response.release()
            answer = (response.status, response.raw_headers, body)
            remaining = deadline - loop.time()
            if response.status != 200 or remaining <= 0 or is_ready(body):
                return answer
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_DELAY)
