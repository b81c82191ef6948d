"""Slow and greedy clients against the literal ``web`` line of the Procfile.

Every test starts the web process exactly as the Procfile says (through ``sh -c``, as
honcho and ACC do), so the bounds are those of the deployed command, not of a test
helper's. The limits are set small through their settings to keep the tests short.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.http import basic
from tests.support.processes import Service, free_port, procfile_command, start
from tests.support.stack import ADMIN, app_env

pytestmark = pytest.mark.integration

HALF_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: slow.example\r\nX-Slow: 1\r\n"
SLOW_CLIENTS = 300


@contextlib.contextmanager
def procfile_web(**settings: str) -> Iterator[Service]:
    """The Procfile's ``web`` line, run by a shell, on a free port; no Flower needed."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cat-web-limits-"))
    env = app_env("redis://127.0.0.1:9/0", FLOWER_URL=f"http://127.0.0.1:{free_port()}")
    env.update(settings)  # may name another FLOWER_URL
    env["WEB_PORT"] = str(port)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    web = start(
        "web",
        ["sh", "-c", procfile_command("web")],
        env=env,
        port=port,
        cwd=workdir,
        log_dir=workdir,
    )
    try:
        yield web
    finally:
        web.stop()


def open_slow(port: int, count: int, payload: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if payload:
            sock.sendall(payload)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def wait_all_closed(sockets: list[socket.socket], deadline: float) -> dict[socket.socket, bytes]:
    """Read each socket until the server closes it; what the server said before closing."""
    received = {sock: b"" for sock in sockets}
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    open_ones = set(sockets)
    while open_ones and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                received[sock] += chunk
            else:
                selector.unregister(sock)
                open_ones.discard(sock)
    selector.close()
    assert not open_ones, f"{len(open_ones)} of {len(sockets)} slow connections still open"
    return received


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def test_half_sent_requests_are_cut_off_while_others_are_served() -> None:
    bound = 3.0
    with procfile_web(WEB_HEADER_TIMEOUT=str(bound)) as web:
        assert web.port is not None
        started = time.monotonic()
        slow = open_slow(web.port, SLOW_CLIENTS, HALF_REQUEST)
        idle = open_slow(web.port, 20, b"")  # connected, never a byte
        try:
            served = httpx.get(f"http://127.0.0.1:{web.port}/healthz", timeout=10)
            assert served.status_code == 200
            # Generous slack for a loaded machine; without a bound they are held for ever.
            replies = wait_all_closed(slow + idle, started + bound + 30)
        finally:
            close_all(slow + idle)
        assert all(replies[s].startswith(b"HTTP/1.1 408 ") for s in slow)
        assert all(replies[s] == b"" for s in idle)
        assert httpx.get(f"http://127.0.0.1:{web.port}/healthz", timeout=10).status_code == 200


def test_a_stalled_request_on_a_kept_alive_connection_is_cut_off() -> None:
    """uvicorn's keep-alive timer stops at the next request's first byte; ours goes on."""
    with procfile_web(WEB_HEADER_TIMEOUT="2", WEB_KEEP_ALIVE_TIMEOUT="30") as web:
        assert web.port is not None
        sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while b'{"status":"ok"}' not in first:
                first += sock.recv(4096)
            sock.sendall(HALF_REQUEST)
            sock.setblocking(False)
            replies = wait_all_closed([sock], time.monotonic() + 30)
        finally:
            sock.close()
        assert replies[sock].startswith(b"HTTP/1.1 408 ")


def test_a_body_that_never_ends_is_cut_off() -> None:
    """A proxied upload that stalls: the proxy would wait for the rest for ever."""
    workdir = Path(tempfile.mkdtemp(prefix="cat-web-upstream-"))
    upstream_port = free_port()
    upstream = start(
        "upstream",
        [sys.executable, "-m", "tests.support.fake_upstream", str(upstream_port)],
        port=upstream_port,
        log_dir=workdir,
    )
    flower = f"http://127.0.0.1:{upstream_port}"
    try:
        with procfile_web(WEB_BODY_TIMEOUT="2", FLOWER_URL=flower) as web:
            assert web.port is not None
            sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
            try:
                sock.sendall(
                    b"POST /flower/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                    + f"Authorization: {basic(*ADMIN)}\r\n\r\npartial".encode()
                )
                sock.setblocking(False)
                wait_all_closed([sock], time.monotonic() + 30)
            finally:
                sock.close()
    finally:
        upstream.stop()


def test_idle_keep_alive_connections_are_closed() -> None:
    with procfile_web(WEB_KEEP_ALIVE_TIMEOUT="1") as web:
        assert web.port is not None
        sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.setblocking(False)
            replies = wait_all_closed([sock], time.monotonic() + 30)
        finally:
            sock.close()
        assert replies[sock].startswith(b"HTTP/1.1 200 ")


def test_oversized_headers_get_431() -> None:
    with procfile_web(WEB_MAX_HEADER_BYTES="4096") as web:
        assert web.port is not None
        sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            with contextlib.suppress(OSError):  # the server may close while we still send
                for _ in range(64):
                    sock.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
            sock.setblocking(False)
            replies = wait_all_closed([sock], time.monotonic() + 30)
        finally:
            sock.close()
        assert replies[sock].startswith(b"HTTP/1.1 431 ")


def test_connections_past_the_limit_are_refused_until_slow_ones_are_cut() -> None:
    with procfile_web(WEB_MAX_CONNECTIONS="50", WEB_HEADER_TIMEOUT="2") as web:
        assert web.port is not None
        url = f"http://127.0.0.1:{web.port}/healthz"
        slow = open_slow(web.port, 60, HALF_REQUEST)
        try:
            assert httpx.get(url, timeout=10).status_code == 503
            wait_all_closed(slow, time.monotonic() + 30)
        finally:
            close_all(slow)
        assert httpx.get(url, timeout=10).status_code == 200
