"""The shared transport against a scripted loopback peer: answer-size cap, deadline, wrong
shapes, errors naming the peer, auth objects and flows, error tables, proxies, TLS, paging."""

from __future__ import annotations

import ast
import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_app_template.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ItemError,
    NotFoundError,
    RetryLater,
    RunError,
)
from channel_app_template.transport import (
    DEFAULT_ERRORS,
    ApiKeyAuth,
    Auth,
    AuthFlow,
    BearerAuth,
    DeadlineExceeded,
    HttpClient,
    Limits,
    PagingError,
    ResponseTooLarge,
    RetryPolicy,
    StatusErrors,
    Timeouts,
    UnexpectedAnswer,
)
from tests.support.fake_omnitron import (
    FakeOmnitron,
    Raw,
    Reply,
    Seen,
    Sleeps,
    huge_body,
    running_fake,
    trickled_body,
    trickled_headers,
)

PEER = "Bazaar marketplace"


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


def client(fake: FakeOmnitron, **options: Any) -> HttpClient:
    options.setdefault("retry", RetryPolicy(max_attempts=1))
    options.setdefault("sleep", Sleeps())
    return HttpClient(fake.url + "api/", peer=PEER, **options)


def test_a_huge_declared_answer_fails_before_its_body_is_read(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: huge_body(100 * 2**20, declared=True)
    with pytest.raises(ResponseTooLarge) as caught:
        client(fake, limits=Limits(max_response_bytes=2**20)).get_json("items", {"q": "secret"})
    error = caught.value
    assert error.peer == PEER and error.path == "items" and error.limit == 2**20
    assert str(error).startswith(f"{PEER} GET items: answer larger than 1048576 bytes")
    assert "secret" not in str(error)


def test_a_huge_streamed_answer_fails_once_the_cap_is_read(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: huge_body(100 * 2**20, declared=False)
    started = time.monotonic()
    with pytest.raises(ResponseTooLarge):
        client(fake, limits=Limits(max_response_bytes=2**20)).get_json("items")
    assert time.monotonic() - started < 30  # stopped at 1 MiB, not at 100 MiB


def test_a_write_with_an_oversized_answer_may_have_happened(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: huge_body(4 * 2**20, declared=True)
    with pytest.raises(AmbiguousWriteError):
        client(fake, limits=Limits(max_response_bytes=2**20)).post_json("orders", {"a": 1})


def test_a_trickled_body_is_cut_at_the_deadline(fake: FakeOmnitron) -> None:
    """One byte every 0.2 s never trips the 5 s read timeout; the 1 s deadline ends it."""
    fake.responder = lambda seen: trickled_body(600, 0.2)  # two minutes to send it all
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        client(fake, timeouts=Timeouts(connect=2, read=5, total=1)).get_json("slow")
    elapsed = time.monotonic() - started
    assert elapsed < 30, elapsed
    error = caught.value
    assert error.peer == PEER and error.path == "slow" and error.deadline == 1
    assert isinstance(error, RetryLater)
    assert str(error) == f"{PEER} GET slow: no complete answer within 1s (HTTP_REQUEST_DEADLINE)"


def test_trickled_headers_are_cut_at_the_deadline(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: trickled_headers(600, 0.2)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        client(fake, timeouts=Timeouts(connect=2, read=5, total=1)).get_json("slow")
    assert time.monotonic() - started < 30


def test_a_deadline_is_per_attempt_and_retried_for_reads(fake: FakeOmnitron) -> None:
    answers = iter([trickled_body(600, 0.2), Reply(200, {"ok": True})])
    fake.responder = lambda seen: next(answers)
    sleeps = Sleeps()
    http = client(
        fake,
        timeouts=Timeouts(connect=2, read=5, total=1),
        retry=RetryPolicy(max_attempts=3),
        sleep=sleeps,
    )
    assert http.get_json("slow") == {"ok": True}
    assert len(sleeps) == 1 and http.stats.requests == 2


def test_a_write_past_its_deadline_is_ambiguous(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: trickled_body(600, 0.2)
    with pytest.raises(AmbiguousWriteError):
        client(fake, timeouts=Timeouts(connect=2, read=5, total=1)).post_json("x", {})
    assert len(fake.seen) == 1


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (
            Raw([b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>"]),
            "not JSON (text/html)",
        ),
        (Raw([b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{"a":']), "not JSON"),
    ],
)
def test_an_answer_that_is_not_json_names_the_peer_and_path(
    fake: FakeOmnitron, reply: Raw, fragment: str
) -> None:
    fake.responder = lambda seen: reply
    with pytest.raises(UnexpectedAnswer) as caught:
        client(fake).get_json("orders", {"email": "buyer@example.com"})
    message = str(caught.value)
    assert message.startswith(f"{PEER} GET orders:") and fragment in message
    assert "buyer" not in message


def test_a_list_where_an_object_is_expected_names_the_peer(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, [1, 2])
    with pytest.raises(UnexpectedAnswer, match=f"^{PEER} GET thing: expected a JSON object"):
        client(fake).get_object("thing")


def test_final_statuses_map_to_error_classes(fake: FakeOmnitron) -> None:
    expected = {
        404: NotFoundError,
        401: AuthenticationError,
        403: AuthenticationError,
        400: ItemError,
        302: ConfigurationError,
    }
    for status, error_class in expected.items():
        fake.responder = lambda seen, status=status: Reply(status, {"detail": "no"})
        with pytest.raises(error_class) as caught:
            client(fake).get_json("x")
        assert caught.value.status_code == status and PEER in str(caught.value)


def test_auth_objects_add_their_header_and_hide_the_secret(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {})
    client(fake, auth=ApiKeyAuth("k-123")).get_json("x")
    client(fake, auth=BearerAuth("t-456")).get_json("x")
    assert fake.seen[0].headers["X-Api-Key"] == "k-123"
    assert fake.seen[1].headers["Authorization"] == "Bearer t-456"
    assert "k-123" not in repr(ApiKeyAuth("k-123")) and "t-456" not in repr(BearerAuth("t-456"))
    with pytest.raises(ConfigurationError):
        ApiKeyAuth("")


def test_an_auth_may_refresh_once_after_a_401(fake: FakeOmnitron) -> None:
    class Rotating(Auth):
        def __init__(self) -> None:
            self.token = "old"

        def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
            headers["Authorization"] = self.token

        def refused(self, answer: Any, state: dict[str, Any]) -> bool:
            if state.get("refreshed"):
                return False
            state["refreshed"] = True
            self.token = "new"
            return True

    fake.responder = lambda seen: (
        Reply(200, {"ok": 1}) if seen.headers["Authorization"] == "new" else Reply(401, {})
    )
    http = client(fake, auth=Rotating())
    assert http.get_json("x") == {"ok": 1}
    assert http.stats.retries == 0 and len(fake.seen) == 2


class NonceAuth(Auth):
    """A challenge flow in httpx's shape: the 401 names a nonce, the repeat sends it."""

    def auth_flow(self, request: httpx.Request) -> AuthFlow:
        answer = yield request
        if answer.status_code == 401 and "WWW-Authenticate" in answer.headers:
            request.headers["Authorization"] = answer.headers["WWW-Authenticate"]
            yield request


def test_an_auth_flow_answers_a_401_challenge_without_a_retry(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: (
        Reply(200, {"ok": 1})
        if seen.headers.get("Authorization") == "Nonce n-1"
        else Reply(401, {}, {"WWW-Authenticate": "Nonce n-1"})
    )
    sleeps = Sleeps()
    http = client(fake, auth=NonceAuth(), sleep=sleeps)
    assert http.post_json("orders", {"a": 1}) == {"ok": 1}
    assert len(fake.seen) == 2 and http.stats.retries == 0 and sleeps == []
    fake.responder = lambda seen: Reply(401, {})  # no challenge: the flow ends, the 401 stays
    with pytest.raises(AuthenticationError):
        http.get_json("x")


def test_the_repeat_after_a_401_starts_its_own_attempts(fake: FakeOmnitron) -> None:
    """503, then 401 (the auth sends again with new credentials), then 503, then 200: two
    attempts per request are enough, because the auth's repeat is not a retry."""

    class Rotating(Auth):
        def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
            headers["Authorization"] = "new" if state.get("refreshed") else "old"

        def refused(self, answer: Any, state: dict[str, Any]) -> bool:
            state["refreshed"] = not state.get("refreshed")
            return bool(state["refreshed"])

    answers = iter([Reply(503, {}), Reply(401, {}), Reply(503, {}), Reply(200, {"ok": 1})])
    fake.responder = lambda seen: next(answers)
    sleeps = Sleeps()
    http = client(fake, auth=Rotating(), retry=RetryPolicy(max_attempts=2), sleep=sleeps)
    assert http.get_json("x") == {"ok": 1}
    assert [s.headers["Authorization"] for s in fake.seen] == ["old", "old", "new", "new"]
    assert len(sleeps) == 2 and http.stats.retries == 2


def test_a_client_configures_its_error_table(fake: FakeOmnitron) -> None:
    errors = DEFAULT_ERRORS.but(
        {418: (ItemError, "{peer} {method} {path}: {status} {code} for {shop}")}, shop="shop-1"
    )
    fake.responder = lambda seen: Reply(418, {"code": "teapot", "detail": "no"})
    with pytest.raises(ItemError) as caught:
        client(fake, classify=errors).get_json("brew", {"q": "secret"})
    error = caught.value
    assert str(error) == f"{PEER} GET brew: 418 teapot for shop-1"
    assert error.status_code == 418 and error.code == "teapot" and error.path == "brew"
    fake.responder = lambda seen: Reply(404, {})  # rows it does not replace stay the default
    with pytest.raises(NotFoundError):
        client(fake, classify=errors).get_json("brew")
    with pytest.raises(ValueError, match="5xx"):
        StatusErrors({"3xx": (RunError, "x"), "4xx": (RunError, "x")})


def test_a_proxy_gets_the_credentials_its_url_names(
    fake: FakeOmnitron, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.responder = lambda seen: Reply(200, {"via": "proxy"})
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = fake.url.rstrip("/").replace("http://", "http://agent:pa55@")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    assert HttpClient("http://upstream.invalid/api/", peer=PEER).get_json("x") == {"via": "proxy"}
    expected = "Basic " + base64.b64encode(b"agent:pa55").decode()
    assert fake.seen[-1].headers["Proxy-Authorization"] == expected


def test_a_failed_tls_handshake_is_a_configuration_error(fake: FakeOmnitron) -> None:
    """The fake speaks plain HTTP: the handshake fails, and retrying cannot fix that."""
    sleeps = Sleeps()
    https = fake.url.replace("http://", "https://")
    http = HttpClient(https, peer=PEER, retry=RetryPolicy(max_attempts=3), sleep=sleeps)
    with pytest.raises(ConfigurationError, match=f"^TLS with {PEER} failed for GET x$"):
        http.get_json("x")
    assert sleeps == []


def test_the_transport_reads_no_private_attribute_of_another_object() -> None:
    """httpx and httpcore are used through their public API only (no ``client._transport``,
    no ``transport._pool``), so a new release cannot silently bypass the deadline."""
    package = Path(__file__).resolve().parents[2] / "channel_app_template" / "transport"
    reached = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner not in ("self", "cls") and not node.attr.startswith("__"):
                reached.append(f"{module.name}:{node.lineno} .{node.attr}")
    assert reached == []


def offset_pages(seen: Seen) -> Reply:
    offset = int(seen.query.get("offset", ["0"])[0])
    rows = [{"id": offset + n} for n in range(2)] if offset < 6 else []
    return Reply(200, {"items": rows, "next_offset": offset + 2 if offset < 4 else None})


def test_offset_paging_reads_to_the_end_one_page_at_a_time(fake: FakeOmnitron) -> None:
    fake.responder = offset_pages
    http = client(fake)
    ids = [row["id"] for row in http.iter_rows("things", {"q": 1}, limit=2, identity=None)]
    assert ids == [0, 1, 2, 3, 4, 5]
    assert [s.query["offset"] for s in fake.seen] == [["0"], ["2"], ["4"]]
    assert all(s.query["limit"] == ["2"] and s.query["q"] == ["1"] for s in fake.seen)


def test_a_peer_answering_next_offset_zero_forever_is_stopped(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"items": [{"id": 1}], "next_offset": 0})
    with pytest.raises(PagingError) as caught:
        list(client(fake).iter_rows("things", limit=10))
    assert caught.value.reason == "not_forward" and len(fake.seen) == 1
    assert str(caught.value).startswith(f"{PEER} GET things:")


def test_a_repeated_cursor_and_empty_pages_with_a_cursor(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"items": [{"id": 1}], "next_cursor": "same"})
    with pytest.raises(PagingError, match="cursor"):
        list(client(fake).iter_rows("events", style="cursor", limit=10))
    assert len(fake.seen) == 2
    fake.seen.clear()
    fake.responder = lambda seen: Reply(200, {"items": [], "next_cursor": "more"})
    assert list(client(fake).iter_rows("events", style="cursor", limit=10)) == []
    assert len(fake.seen) == 1


def test_a_page_with_more_rows_than_asked_for_is_refused(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"items": [{"id": n} for n in range(400)]})
    with pytest.raises(PagingError, match="400 rows, asked for at most 100"):
        list(client(fake).iter_rows("orders", limit=100))


def test_page_numbers_stop_when_the_peer_ignores_them(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(
        200, {"count": 10**6, "results": [{"pk": 1}, {"pk": 2}], "next": "more"}
    )
    rows = client(fake).iter_rows(
        "products", style="page", rows="results", limit=2, identity=lambda row: row["pk"]
    )
    with pytest.raises(PagingError) as caught:
        list(rows)
    assert caught.value.reason == "page_repeated" and len(fake.seen) == 2


def test_a_page_without_its_rows_list_is_an_unexpected_answer(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"items": {"id": 1}})
    with pytest.raises(UnexpectedAnswer, match="expected a list in 'items'"):
        list(client(fake).iter_rows("things"))


def test_limits_and_timeouts_are_bounded() -> None:
    with pytest.raises(ValueError):
        Limits(max_response_bytes=10)
    with pytest.raises(ValueError):
        Limits(max_pages=0)
    with pytest.raises(ValueError):
        Timeouts(total=float("inf"))
    with pytest.raises(ValueError):
        RetryPolicy(max_elapsed=-1)
    with pytest.raises(ConfigurationError, match="Bazaar"):
        HttpClient("ftp://x", peer="Bazaar")


def test_a_proxy_from_the_environment_is_used_unless_no_proxy_says_otherwise(
    fake: FakeOmnitron, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with ``requests``: ``HTTP_PROXY`` carries the call (the fake plays the proxy, so
    it receives the absolute URL), ``NO_PROXY`` exempts a host."""
    fake.responder = lambda seen: Reply(200, {"via": "proxy"})
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", fake.url.rstrip("/"))
    upstream = "http://upstream.invalid/api/"
    assert HttpClient(upstream, peer=PEER).get_json("x") == {"via": "proxy"}
    assert fake.seen[-1].path == "/api/x"
    monkeypatch.setenv("NO_PROXY", "upstream.invalid")
    with pytest.raises(RetryLater):  # straight to a host that does not resolve
        HttpClient(upstream, peer=PEER, retry=RetryPolicy(max_attempts=1)).get_json("x")
    assert len(fake.seen) == 1


def test_every_client_shares_one_tls_context() -> None:
    """A flow run builds its clients afresh; a TLS context each (the CA bundle loaded into
    OpenSSL again) made a long-running worker grow by every run."""
    clients = [HttpClient(f"https://peer{n}.invalid/", peer=PEER) for n in range(3)]
    pools = [client.transport.pool for client in clients]  # type: ignore[attr-defined]
    assert len({id(pool._ssl_context) for pool in pools}) == 1
    for client in clients:
        client.close()
