"""Regression tests for every proxy rule of flower.md section 4 (P01..P23), plus auth.

Rows that Flower cannot produce (gzip, two Set-Cookie headers, drips, absolute
redirects) run against ``tests.support.fake_upstream``, a real HTTP server of our own;
the rest run against real Flower through the full stack.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.fake_upstream import BIG_BODY
from tests.support.http import Reply, basic, request
from tests.support.processes import Service, free_port, start
from tests.support.stack import ADMIN, VIEWER, Stack, app_env, start_web

pytestmark = pytest.mark.integration

AUTH = ("Authorization", basic(*ADMIN))
UPLOAD_MIB = 16  # PROXY_MAX_BODY_BYTES's ceiling
VIEWER_AUTH = ("Authorization", basic(*VIEWER))


def start_upstream(workdir: Path) -> Service:
    port = free_port()
    return start(
        "upstream",
        [sys.executable, "-m", "tests.support.fake_upstream", str(port)],
        port=port,
        log_dir=workdir,
    )


def web_for(upstream_url: str, workdir: Path, **settings: str) -> Service:
    env = app_env("redis://127.0.0.1:9/0", FLOWER_URL=upstream_url, **settings)
    return start_web(env, workdir)


@pytest.fixture(scope="module")
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="cat-proxy-"))


@pytest.fixture(scope="module")
def upstream(workdir: Path) -> Iterator[Service]:
    service = start_upstream(workdir)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def web(upstream: Service, workdir: Path) -> Iterator[Service]:
    service = web_for(
        f"http://127.0.0.1:{upstream.port}",
        workdir,
        PROXY_READ_TIMEOUT="2",
        PROXY_MAX_BODY_BYTES=str(UPLOAD_MIB * 1024 * 1024),  # the largest cap allowed
    )
    yield service
    service.stop()


def get(
    web: Service,
    target: str,
    *headers: tuple[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> Reply:
    assert web.port is not None
    return request(web.port, method, target, [AUTH, *headers], body)


def echoed(reply: Reply) -> dict[str, object]:
    assert reply.status == 200, reply.body[:500]
    data: dict[str, object] = json.loads(reply.body)
    return data


def upstream_headers(reply: Reply) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name, value in echoed(reply)["headers"]:  # type: ignore[union-attr]
        seen.setdefault(name.lower(), []).append(value)
    return seen


# --- Authentication in front of everything -------------------------------------------


FLOWER_ROUTES = [
    ("GET", "/flower/"),
    ("GET", "/flower/workers"),
    ("GET", "/flower/tasks"),
    ("GET", "/flower/broker"),
    ("GET", "/flower/worker/w1@x"),
    ("GET", "/flower/task/abc"),
    ("POST", "/flower/tasks/datatable"),
    ("GET", "/flower/api/workers"),
    ("GET", "/flower/api/tasks"),
    ("GET", "/flower/api/task/types"),
    ("GET", "/flower/api/queues/length"),
    ("GET", "/flower/api/task/info/abc"),
    ("POST", "/flower/api/task/apply/tests.add"),
    ("POST", "/flower/api/task/async-apply/tests.add"),
    ("POST", "/flower/api/task/send-task/tests.add"),
    ("GET", "/flower/api/task/result/abc"),
    ("POST", "/flower/api/task/abort/abc"),
    ("POST", "/flower/api/task/timeout/tests.add"),
    ("POST", "/flower/api/task/rate-limit/tests.add"),
    ("POST", "/flower/api/task/revoke/abc"),
    ("POST", "/flower/api/worker/shutdown/w1@x"),
    ("POST", "/flower/api/worker/pool/restart/w1@x"),
    ("POST", "/flower/api/worker/pool/grow/w1@x"),
    ("POST", "/flower/api/worker/pool/shrink/w1@x"),
    ("POST", "/flower/api/worker/pool/autoscale/w1@x"),
    ("POST", "/flower/api/worker/queue/add-consumer/w1@x"),
    ("POST", "/flower/api/worker/queue/cancel-consumer/w1@x"),
    ("GET", "/flower/metrics"),
    ("GET", "/flower/healthcheck"),
    ("GET", "/flower/static/js/flower.js"),
    ("GET", "/flower/login"),
    ("GET", "/flower/logout"),
    ("OPTIONS", "/flower/api/workers"),
    ("GET", "/flower"),
    ("GET", "/flower/nope"),
]

# Flower's API is served at the root too (for the incumbent's trigger scripts), under the
# same rules: every /flower/api/... route again as /api/...
FLOWER_ROUTES += [(m, p.removeprefix("/flower")) for m, p in FLOWER_ROUTES if "/api/" in p]

BAD_AUTH = [
    [],
    [("Authorization", basic("admin", "wrong-password"))],
    [("Authorization", basic("nobody", ADMIN[1]))],
    [("Authorization", "Bearer " + ADMIN[1])],
    [("Authorization", "Basic not-base64!")],
    [("Authorization", basic("admin", ""))],
]


@pytest.fixture(scope="module")
def guessable_web(stack: Stack, workdir: Path) -> Iterator[Service]:
    """A web process in front of the stack's Flower that never throttles failed logins,
    so a matrix of bad credentials can be checked route by route (throttling has its
    own tests in test_login_throttle.py)."""
    env = {
        **stack.env,
        "LOGIN_FAILURES_PER_ADDRESS": "10000",
        "LOGIN_FAILURES_PER_USER": "100000",
    }
    service = start_web(env, workdir)
    yield service
    service.stop()


@pytest.mark.parametrize(("method", "path"), FLOWER_ROUTES)
def test_no_flower_route_without_credentials(
    guessable_web: Service, method: str, path: str
) -> None:
    assert guessable_web.port is not None
    for headers in BAD_AUTH:
        body = b"{}" if method == "POST" else None
        reply = request(guessable_web.port, method, path, headers, body)
        assert reply.status == 401, (method, path, headers, reply.status)
        assert reply.one(
            "www-authenticate",
        ).startswith("Basic realm=")  # type: ignore[union-attr]
        assert b"flower" not in reply.body.lower() or b"authentication" in reply.body.lower()


MUTATING = [(m, p) for m, p in FLOWER_ROUTES if m == "POST" and "datatable" not in p]


@pytest.mark.parametrize(("method", "path"), MUTATING)
def test_read_only_user_gets_403_on_every_mutating_route(
    stack: Stack, method: str, path: str
) -> None:
    assert stack.web.port is not None
    reply = request(stack.web.port, method, path, [VIEWER_AUTH], b'{"args":[1,2]}')
    assert reply.status == 403


DATATABLE_QUERY = (
    "draw=1&start=0&length=10&search%5Bvalue%5D=&order%5B0%5D%5Bcolumn%5D=0"
    "&order%5B0%5D%5Bdir%5D=asc&columns%5B0%5D%5Bdata%5D=name"
)


def test_read_only_user_can_read_dashboard_api_and_datatable(stack: Stack) -> None:
    assert stack.web.port is not None
    for method, path in [
        ("GET", "/flower/"),
        ("GET", "/flower/api/workers"),
        ("GET", "/flower/tasks/datatable?" + DATATABLE_QUERY),
    ]:
        assert request(stack.web.port, method, path, [VIEWER_AUTH]).status == 200, path
    datatable = request(
        stack.web.port,
        "POST",
        "/flower/tasks/datatable",
        [VIEWER_AUTH, ("Content-Type", "application/x-www-form-urlencoded")],
        DATATABLE_QUERY.encode(),
    )
    assert datatable.status == 200


def test_flower_sees_only_the_service_credential(web: Service) -> None:
    """A read-only user's password never reaches Flower, and never works there."""
    assert web.port is not None
    reply = request(web.port, "GET", "/flower/echo", [VIEWER_AUTH])
    assert upstream_headers(reply)["authorization"] == [basic(*ADMIN)]


# --- Against real Flower ---------------------------------------------------------------


def test_p01_apply_with_basic_auth(stack: Stack) -> None:
    reply = get(
        stack.web, "/flower/api/task/apply/tests.add", method="POST", body=b'{"args": [20, 22]}'
    )
    assert reply.status == 200
    assert json.loads(reply.body)["result"] == 42


def test_p02_dashboard_and_static_assets(stack: Stack) -> None:
    page = get(stack.web, "/flower/")
    assert page.status == 200
    html = page.body.decode()
    assets = sorted(set(part.split('"')[0] for part in html.split('="/flower/static/')[1:]))
    assert len(assets) >= 5, assets
    for asset in assets:
        reply = get(stack.web, "/flower/static/" + asset)
        assert reply.status == 200, asset
        direct = request(stack.flower.port or 0, "GET", "/flower/static/" + asset)
        assert reply.body == direct.body, asset


def test_p03_flower_without_slash_redirects_to_dashboard(stack: Stack) -> None:
    reply = get(stack.web, "/flower?x=1")
    assert reply.status == 307
    assert reply.one("location") == "/flower/?x=1"
    assert get(stack.web, "/flower/").status == 200


def test_p06_browser_post_with_public_origin_is_accepted(stack: Stack) -> None:
    public = f"127.0.0.1:{stack.web.port}"
    reply = get(
        stack.web,
        "/flower/api/task/async-apply/tests.add",
        ("Host", public),
        ("Origin", f"http://{public}"),
        method="POST",
        body=b'{"args": [1, 2]}',
    )
    assert reply.status == 200, reply.body
    assert "task-id" in json.loads(reply.body)


def test_p08_chunked_request_body_reaches_flower(stack: Stack) -> None:
    assert stack.web.port is not None
    reply = request(
        stack.web.port,
        "POST",
        "/flower/api/task/apply/tests.add",
        [AUTH],
        [b'{"args": ', b"[3, 4]}"],
        chunked=True,
    )
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["result"] == 7


def test_p09_expect_100_continue(stack: Stack) -> None:
    reply = get(
        stack.web,
        "/flower/api/task/apply/tests.add",
        ("Expect", "100-continue"),
        method="POST",
        body=b'{"args": [5, 5]}',
    )
    assert reply.status == 200
    assert json.loads(reply.body)["result"] == 10


def test_p15b_apply_of_a_slow_task_outlives_short_timeouts(stack: Stack) -> None:
    started = time.monotonic()
    reply = get(
        stack.web, "/flower/api/task/apply/tests.sleep", method="POST", body=b'{"args": [6]}'
    )
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["state"] == "SUCCESS"
    assert time.monotonic() - started >= 6


def test_p23_one_date_and_one_server_from_flower(stack: Stack) -> None:
    reply = get(stack.web, "/flower/api/workers")
    assert len(reply.all("date")) == 1
    assert reply.all("server") == ["uvicorn"]


# --- Against our own upstream -------------------------------------------------------


def test_p04_client_hop_by_hop_headers_are_not_forwarded(web: Service) -> None:
    reply = get(
        web,
        "/flower/echo",
        ("Connection", "keep-alive, X-Hop-Req"),
        ("X-Hop-Req", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Proxy-Authorization", "x"),
        ("Proxy-Connection", "keep-alive"),
        ("Trailer", "X-Sum"),
        ("X-Kept", "yes"),
    )
    seen = upstream_headers(reply)
    for name in (
        "x-hop-req",
        "keep-alive",
        "te",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
    ):
        assert name not in seen, name
    assert seen.get("connection", ["keep-alive"]) == ["keep-alive"]
    assert seen["x-kept"] == ["yes"]


def test_p05_upstream_hop_by_hop_headers_are_not_returned(web: Service) -> None:
    reply = get(web, "/flower/hop")
    names = {k.lower() for k, _ in reply.headers}
    assert not names & {"keep-alive", "x-hop-custom", "proxy-authenticate", "trailer"}
    assert reply.one("x-end-to-end") == "kept"


def test_p06_public_host_is_forwarded(web: Service) -> None:
    seen = upstream_headers(get(web, "/flower/echo", ("Host", "app.example.com")))
    assert seen["host"] == ["app.example.com"]


def test_p07_forwarded_headers_are_set_not_trusted(web: Service) -> None:
    seen = upstream_headers(
        get(
            web,
            "/flower/echo",
            ("Host", "app.example.com"),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Real-IP", "6.6.6.6"),
            ("X-Forwarded-Proto", "https"),
        )
    )
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-real-ip"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == ["app.example.com"]
    assert seen["x-forwarded-prefix"] == ["/flower"]


def test_p08_chunked_body_is_not_sent_with_a_content_length(web: Service) -> None:
    assert web.port is not None
    reply = request(web.port, "POST", "/flower/echo", [AUTH], [b"hello ", b"world"], chunked=True)
    seen = upstream_headers(reply)
    assert "content-length" not in seen
    assert seen["transfer-encoding"] == ["chunked"]
    assert echoed(reply)["body_sha256"] == hashlib.sha256(b"hello world").hexdigest()


def test_p10_no_gzip_for_clients_that_did_not_ask(web: Service) -> None:
    plain = get(web, "/flower/gzip")
    assert plain.one("content-encoding") is None
    assert plain.body == b"hello " * 50
    asked = get(web, "/flower/gzip", ("Accept-Encoding", "gzip"))
    assert asked.one("content-encoding") == "gzip"
    assert asked.body.startswith(b"\x1f\x8b")
    assert int(asked.one("content-length") or 0) == len(asked.body)


def test_p11_two_set_cookie_headers_stay_two(web: Service) -> None:
    cookies = get(web, "/flower/cookies").all("set-cookie")
    assert cookies == [
        "a=1; Path=/; HttpOnly",
        "b=2; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
    ]


def test_p12_cookies_are_never_replayed_to_another_client(web: Service) -> None:
    get(web, "/flower/cookies")
    seen = upstream_headers(get(web, "/flower/echo"))
    assert "cookie" not in seen
    own = upstream_headers(get(web, "/flower/echo", ("Cookie", "mine=1")))
    assert own["cookie"] == ["mine=1"]


def test_p13_absolute_upstream_location_is_made_relative(web: Service) -> None:
    assert get(web, "/flower/redirect").one("location") == "/flower/echo"


def test_p14_upstream_down_gives_502(workdir: Path) -> None:
    down = web_for(f"http://127.0.0.1:{free_port()}", workdir)
    try:
        assert get(down, "/flower/api/workers").status == 502
    finally:
        down.stop()


def test_p15_upstream_slower_than_read_timeout_gives_504(web: Service) -> None:
    started = time.monotonic()
    reply = get(web, "/flower/slow?s=6")
    elapsed = time.monotonic() - started
    assert reply.status == 504
    assert 1.5 <= elapsed < 5


def drip_status(web: Service) -> dict[str, int]:
    status: dict[str, int] = echoed(get(web, "/flower/drip-status"))  # type: ignore[assignment]
    return status


def abandon_drip(web: Service) -> None:
    assert web.port is not None
    with socket.create_connection(("127.0.0.1", web.port), timeout=5) as sock:
        sock.sendall(
            f"GET /flower/drip HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH[1]}\r\n\r\n".encode()
        )
        assert b"drip" in sock.recv(4096) or b"drip" in sock.recv(4096)


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_p16_client_disconnect_closes_the_upstream(web: Service) -> None:
    before = drip_status(web)
    abandon_drip(web)
    assert wait_until(lambda: drip_status(web)["aborted"] > before["aborted"], 5)
    assert drip_status(web)["active"] == 0


def test_p17_abandoned_streams_do_not_leak(web: Service) -> None:
    before = drip_status(web)
    threads = [threading.Thread(target=abandon_drip, args=(web,)) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_until(lambda: drip_status(web)["aborted"] >= before["aborted"] + 40, 10)
    assert wait_until(lambda: drip_status(web)["active"] == 0, 5)
    assert drip_status(web)["finished"] == before["finished"]
    assert get(web, "/flower/echo").status == 200


@pytest.mark.parametrize("query", ["", "?b=2&a=1&flag&x=%20+y&z=%2F"])
def test_p18_query_is_byte_exact(web: Service, query: str) -> None:
    assert echoed(get(web, "/flower/echo" + query))["raw_path"] == "/flower/echo" + query


def test_p19_encoded_characters_in_path_are_kept(web: Service) -> None:
    path = "/flower/echo/a%2Fb%20c%3Fd"
    assert echoed(get(web, path))["raw_path"] == path


@pytest.mark.parametrize(
    "path",
    [
        "/flower/../echo",
        "/flower/%2e%2e/echo",
        "/flower/%2E%2E/echo",
        "/flower/..%2fecho",
        "/flower/echo/../../echo",
        "/flower/./echo",
        "/flower/api/task/async-apply/../../echo",
        "/flower/echo%5c..%5c..",
        "/flower/echo/%00",
        "/flowerx/echo",
    ],
)
def test_p20_paths_cannot_leave_the_prefix(web: Service, path: str) -> None:
    assert (
        get(web, path).status in (400, 404)
        if path == "/flowerx/echo"
        else get(web, path).status == 400
    )


def test_p21_large_response_streams_intact(web: Service) -> None:
    reply = get(web, "/flower/big")
    assert reply.status == 200
    assert hashlib.sha256(reply.body).digest() == hashlib.sha256(BIG_BODY).digest()


def test_p22_large_upload_streams_with_flat_memory(web: Service) -> None:
    assert web.port is not None
    process = psutil.Process(web.process.pid)
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    chunk = b"x" * (1024 * 1024)
    try:
        reply = request(
            web.port,
            "POST",
            "/flower/upload",
            [AUTH],
            (chunk for _ in range(UPLOAD_MIB)),
            chunked=True,
            timeout=120,
        )
    finally:
        done.set()
        sampler.join()
    assert json.loads(reply.body) == {"received": UPLOAD_MIB * len(chunk)}
    # Buffering it would grow RSS by at least the body (16 MiB), usually twice that.
    assert peak - before < 8 * 1024 * 1024, f"RSS grew by {(peak - before) >> 20} MiB"


def test_p23_upstream_date_and_server_are_dropped(web: Service) -> None:
    reply = get(web, "/flower/echo")
    assert len(reply.all("date")) == 1
    assert reply.all("server") == ["uvicorn"]


# --- Limits ------------------------------------------------------------------------------


def test_body_over_the_cap_is_refused(upstream: Service, workdir: Path) -> None:
    small = web_for(f"http://127.0.0.1:{upstream.port}", workdir, PROXY_MAX_BODY_BYTES="1024")
    try:
        assert small.port is not None
        declared = request(small.port, "POST", "/flower/echo", [AUTH], b"x" * 2048)
        assert declared.status == 413
        streamed = request(
            small.port, "POST", "/flower/echo", [AUTH], [b"x" * 600, b"x" * 600], chunked=True
        )
        assert streamed.status == 413
        fits = request(small.port, "POST", "/flower/echo", [AUTH], b"x" * 1000)
        assert echoed(fits)["body_len"] == 1000
    finally:
        small.stop()


def test_pool_exhaustion_gives_503(upstream: Service, workdir: Path) -> None:
    narrow = web_for(
        f"http://127.0.0.1:{upstream.port}",
        workdir,
        PROXY_MAX_CONNECTIONS="2",
        PROXY_POOL_TIMEOUT="0.5",
        PROXY_READ_TIMEOUT="10",
    )
    results: list[int] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(get(narrow, "/flower/slow?s=2").status))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        for thread in threads:
            thread.join()
        assert sorted(results) == [200, 200, 503]
    finally:
        narrow.stop()


def test_http_proxy_in_environment_is_ignored(upstream: Service, workdir: Path) -> None:
    env_proxied = web_for(
        f"http://127.0.0.1:{upstream.port}",
        workdir,
        HTTP_PROXY=f"http://127.0.0.1:{free_port()}",
        http_proxy=f"http://127.0.0.1:{free_port()}",
    )
    try:
        assert get(env_proxied, "/flower/echo").status == 200
    finally:
        env_proxied.stop()


def test_forwarded_chain_is_extended_only_when_trusted(upstream: Service, workdir: Path) -> None:
    trusting = web_for(
        f"http://127.0.0.1:{upstream.port}", workdir, PROXY_TRUST_FORWARDED_HEADERS="true"
    )
    try:
        seen = upstream_headers(
            get(
                trusting,
                "/flower/echo",
                ("X-Forwarded-For", "203.0.113.9"),
                ("X-Forwarded-Proto", "https"),
            )
        )
        assert seen["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"]
        assert seen["x-forwarded-proto"] == ["https"]
    finally:
        trusting.stop()
