"""A stand-in Sentry ingestion endpoint that appends every received item to a file.

Run as ``python -m tests.support.fake_sentry PORT OUTFILE``; the DSN is then
``http://public@127.0.0.1:PORT/1``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web


def main() -> None:
    port, out = int(sys.argv[1]), Path(sys.argv[2])

    async def ingest(request: web.Request) -> web.Response:
        body = await request.read()  # aiohttp has already undone any Content-Encoding
        with out.open("ab") as handle:
            handle.write(body + b"\n")
        return web.json_response({"id": "0" * 32})

    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/api/{project}/{kind}/", ingest)
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: None)


if __name__ == "__main__":
    main()
