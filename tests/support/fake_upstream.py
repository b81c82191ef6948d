"""A small HTTP upstream that produces what Flower never does (gzip, two Set-Cookie
headers, hop-by-hop replies, absolute redirects, slow and dripping bodies), and reports
exactly what it received, so the proxy's rules can be checked byte for byte.

Run as ``python -m tests.support.fake_upstream PORT``.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import sys

from aiohttp import web

BIG_BODY = bytes(range(256)) * (5 * 1024 * 1024 // 256)


def echo(request: web.Request, body: bytes) -> web.Response:
    payload = {
        "method": request.method,
        "raw_path": request.raw_path,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers],
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    return web.json_response(payload)


class Upstream:
    def __init__(self) -> None:
        self.drips_active = 0
        self.drips_finished = 0
        self.drips_aborted = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/flower/upload"):
            total = 0
            async for chunk in request.content.iter_any():
                total += len(chunk)
            return web.json_response({"received": total})
        body = await request.read()
        if path.startswith("/flower/gzip"):
            text = b"hello " * 50
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                return web.Response(body=gzip.compress(text), headers={"Content-Encoding": "gzip"})
            return web.Response(body=text)
        if path == "/flower/cookies":
            response = web.Response(text="cookies")
            response.headers.add("Set-Cookie", "a=1; Path=/; HttpOnly")
            response.headers.add("Set-Cookie", "b=2; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT")
            return response
        if path == "/flower/hop":
            response = web.Response(text="hop")
            response.headers["Connection"] = "X-Hop-Custom"
            response.headers["X-Hop-Custom"] = "1"
            response.headers["Keep-Alive"] = "timeout=5"
            response.headers["Proxy-Authenticate"] = "Basic"
            response.headers["Trailer"] = "X-Checksum"
            response.headers["X-End-To-End"] = "kept"
            return response
        if path == "/flower/redirect":
            assert request.transport is not None
            host, port = request.transport.get_extra_info("sockname")[:2]
            own = f"http://{host}:{port}/flower/echo"
            return web.Response(status=302, headers={"Location": own})
        if path == "/flower/slow":
            await asyncio.sleep(float(request.query.get("s", "5")))
            return web.Response(text="slow")
        if path == "/flower/drip":
            return await self.drip(request)
        if path == "/flower/drip-status":
            return web.json_response(
                {
                    "active": self.drips_active,
                    "finished": self.drips_finished,
                    "aborted": self.drips_aborted,
                }
            )
        if path == "/flower/big":
            return web.Response(body=BIG_BODY, content_type="application/octet-stream")
        return echo(request, body)

    async def drip(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/plain"
        self.drips_active += 1
        try:
            await response.prepare(request)
            for _ in range(150):
                await response.write(b"drip\n")
                await asyncio.sleep(0.2)
            await response.write_eof()
            self.drips_finished += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.drips_aborted += 1
            raise
        finally:
            self.drips_active -= 1
        return response


def main() -> None:
    port = int(sys.argv[1])
    upstream = Upstream()
    app = web.Application(client_max_size=1024**3)
    app.router.add_route("*", "/{tail:.*}", upstream.handle)
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: None, handler_cancellation=True)


if __name__ == "__main__":
    main()
