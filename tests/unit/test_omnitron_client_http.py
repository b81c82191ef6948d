"""The HTTP layer against a scripted loopback server: auth, retries, ambiguity, timeouts."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from channel_app_template.akinon.http import encode_json, is_idempotent
from channel_app_template.akinon.token_cache import (
    MemoryTokenCache,
    RedisTokenCache,
    cache_namespace,
)
from channel_app_template.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    ItemError,
    LoginThrottled,
    MayHaveHappened,
    NotFoundError,
    RateLimited,
    RetryLater,
)
from channel_app_template.transport import RetryPolicy, Timeouts, parse_retry_after
from tests.support.fake_omnitron import (
    LOGIN,
    PASSWORD,
    Drop,
    FakeOmnitron,
    Hang,
    Reply,
    Seen,
    Sleeps,
    make_client,
    page,
    running_fake,
)
from tests.support.processes import free_port

ITEMS = "/api/v1/channel/7/order_items/5/"
CREATE = "/api/v1/channel/7/create_orders/"


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


def script(fake: FakeOmnitron, *actions: object) -> None:
    """Answer non-login calls with ``actions`` in order, then 200 {} forever."""
    queue = list(actions)

    def responder(seen: Seen) -> object:
        return queue.pop(0) if queue else Reply(200, {"pk": 5})

    fake.responder = responder  # type: ignore[assignment]


# Authentication -------------------------------------------------------------------------


def test_login_has_no_authorization_and_every_other_call_carries_the_token(
    fake: FakeOmnitron,
) -> None:
    client = make_client(fake.url)
    client.http.get("channel/7/order_items/5/")
    client.http.patch("channel/7/order_items/5/", {"status": "550"})

    login, get, patch = fake.seen
    assert login.path == LOGIN and login.method == "POST"
    assert "Authorization" not in login.headers
    assert login.body == {"username": "channel-bot", "password": PASSWORD}
    assert login.headers["Content-Type"] == "application/json"
    token = fake.issued[0]
    assert get.headers["Authorization"] == f"Token {token}"
    assert patch.headers["Authorization"] == f"Token {token}"
    assert patch.headers["Content-Type"] == "application/json"


def test_one_session_reuses_one_connection(fake: FakeOmnitron) -> None:
    client = make_client(fake.url)
    session = client.http.client.client
    for _ in range(5):
        client.http.get("channel/7/order_items/5/")
    assert client.http.client.client is session
    assert len({seen.client_port for seen in fake.seen}) == 1  # keep-alive on one session


def test_token_is_shared_through_the_cache(fake: FakeOmnitron) -> None:
    cache = MemoryTokenCache()
    make_client(fake.url, cache=cache).http.get("channel/7/order_items/5/")
    make_client(fake.url, cache=cache).http.get("channel/7/order_items/5/")
    assert fake.logins == 1


def test_401_logs_in_again_exactly_once_and_repeats_the_request(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        if seen.headers.get("Authorization") == f"Token {fake.issued[0]}":
            return Reply(401, {"detail": "Invalid token."})
        return Reply(200, {"pk": 5})

    fake.responder = responder
    client = make_client(fake.url)
    # a write: a 401 means it was not processed, so repeating it is safe
    assert client.http.post("channel/7/customers/", {"email": "a@b.c"}) == {"pk": 5}
    assert fake.logins == 2
    assert len(fake.calls("/api/v1/channel/7/customers/")) == 2


def test_401_after_a_fresh_login_is_an_authentication_error(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(401, {"detail": "Invalid token."})
    client = make_client(fake.url)
    with pytest.raises(AuthenticationError):
        client.http.get("channel/7/order_items/5/")
    assert fake.logins == 2
    assert len(fake.calls(ITEMS)) == 2


def test_401_reuses_a_token_another_worker_already_refreshed(fake: FakeOmnitron) -> None:
    cache = MemoryTokenCache()
    first = make_client(fake.url, cache=cache)
    first.http.get("channel/7/order_items/5/")
    stale = fake.issued[0]
    cache.set("f" * 40)  # another process logged in meanwhile
    fake.issued.append("f" * 40)
    fake.responder = lambda seen: (
        Reply(401, {}) if seen.headers["Authorization"] == f"Token {stale}" else Reply(200, {})
    )
    first.http.get("channel/7/order_items/5/")
    assert fake.logins == 1


def test_bad_credentials_are_a_configuration_error_without_retries(fake: FakeOmnitron) -> None:
    client = make_client(fake.url)
    client.http._password = type(client.http._password)("wrong")
    with pytest.raises(ConfigurationError):
        client.http.get("channel/7/order_items/5/")
    assert fake.logins == 1
    assert not fake.calls(ITEMS)


def test_login_storm_guard_bounds_logins_per_window(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(401, {})
    cache = MemoryTokenCache(login_window=300)
    client = make_client(fake.url, cache=cache, max_logins_per_window=2)
    with pytest.raises(AuthenticationError):
        client.http.get("channel/7/order_items/5/")  # logins 1 and 2
    with pytest.raises(LoginThrottled) as caught:
        client.http.get("channel/7/order_items/5/")  # 401 again: login 3 is refused
    assert fake.logins == 2
    assert isinstance(caught.value, RetryLater)
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300


def test_login_window_expires() -> None:
    now = [0.0]
    cache = MemoryTokenCache(login_window=10, clock=lambda: now[0])
    assert cache.count_login()[0] == 1
    assert cache.count_login()[0] == 2
    now[0] = 11
    assert cache.count_login() == (1, 10)


def test_memory_token_cache_ttl_and_compare_and_delete() -> None:
    now = [0.0]
    cache = MemoryTokenCache(ttl=5, clock=lambda: now[0])
    cache.set("a")
    cache.invalidate("b")
    assert cache.get() == "a"
    cache.invalidate("a")
    assert cache.get() is None
    cache.set("c")
    now[0] = 6
    assert cache.get() is None


def test_cache_namespace_hashes_url_and_user() -> None:
    one = cache_namespace("https://omni.example.com/", "bot")
    assert one == cache_namespace("https://OMNI.example.com", "bot")
    assert one != cache_namespace("https://omni.example.com/", "other")
    assert one != cache_namespace("https://omni2.example.com/", "bot")
    assert "bot" not in one and "omni" not in one


# 429 and Retry-After --------------------------------------------------------------------


def test_429_waits_retry_after_seconds_and_retries_even_a_write(fake: FakeOmnitron) -> None:
    script(fake, Reply(429, {"detail": "slow down"}, {"Retry-After": "3"}))
    sleeps = Sleeps()
    client = make_client(fake.url, sleeps=sleeps)
    client.http.post("channel/7/create_orders/", {"order": {}, "order_item": []})
    assert sleeps == [3.0]
    assert len(fake.calls(CREATE)) == 2


def test_429_with_an_http_date(fake: FakeOmnitron) -> None:
    when = email.utils.format_datetime(
        dt.datetime(2030, 1, 1, 12, 0, 10, tzinfo=dt.UTC), usegmt=True
    )
    script(fake, Reply(429, {}, {"Retry-After": when}))
    sleeps = Sleeps()
    client = make_client(
        fake.url,
        sleeps=sleeps,
        wall_clock=lambda: dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC),
    )
    client.http.get("channel/7/order_items/5/")
    assert sleeps == [10.0]


def test_429_longer_than_the_cap_is_raised_not_slept(fake: FakeOmnitron) -> None:
    script(fake, Reply(429, {}, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    client = make_client(fake.url, sleeps=sleeps, retry=RetryPolicy(max_retry_after=30))
    with pytest.raises(RateLimited) as caught:
        client.http.get("channel/7/order_items/5/")
    assert caught.value.retry_after == 3600
    assert sleeps == []


def test_429_without_retry_after_uses_backoff_and_gives_up(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(429, {})
    sleeps = Sleeps()
    client = make_client(fake.url, sleeps=sleeps, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(RateLimited):
        client.http.get("channel/7/order_items/5/")
    assert len(fake.calls(ITEMS)) == 3
    assert len(sleeps) == 2


def test_parse_retry_after() -> None:
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("Mon, 01 Jan 2024 00:00:30 GMT", now) == 30
    assert parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# Retries of idempotent calls ------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_are_retried_on_5xx(fake: FakeOmnitron, status: int) -> None:
    script(fake, Reply(status, {"detail": "oops"}), Reply(status, "<html>"))
    sleeps = Sleeps()
    client = make_client(fake.url, sleeps=sleeps)
    assert client.http.get("channel/7/order_items/5/") == {"pk": 5}
    assert len(fake.calls(ITEMS)) == 3
    assert len(sleeps) == 2


def test_reads_give_up_after_max_attempts(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(503, {})
    sleeps = Sleeps()
    client = make_client(fake.url, sleeps=sleeps, retry=RetryPolicy(max_attempts=4))
    with pytest.raises(RetryLater):
        client.http.get("channel/7/order_items/5/")
    assert len(fake.calls(ITEMS)) == 4
    assert len(sleeps) == 3


def test_a_dropped_connection_on_a_read_is_retried(fake: FakeOmnitron) -> None:
    script(fake, Drop())
    client = make_client(fake.url)
    assert client.http.get("channel/7/order_items/5/") == {"pk": 5}
    assert len(fake.calls(ITEMS)) == 2


def test_patch_is_retried_on_5xx(fake: FakeOmnitron) -> None:
    script(fake, Reply(502, {}))
    client = make_client(fake.url)
    client.http.patch("channel/7/order_items/5/", {"status": "550"})
    assert len(fake.calls(ITEMS, "PATCH")) == 2


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0)
    rng = random.Random(1)
    for retry_number, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = [policy.backoff(retry_number, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered


def test_total_time_of_a_call_is_bounded(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(503, {})
    client = make_client(
        fake.url,
        retry=RetryPolicy(max_attempts=100, backoff_base=0.05, backoff_cap=0.1, max_elapsed=0.5),
        sleep=time.sleep,
    )
    started = time.monotonic()
    with pytest.raises(RetryLater):
        client.http.get("channel/7/order_items/5/")
    assert time.monotonic() - started < 1.5


def test_idempotent_methods() -> None:
    assert all(is_idempotent(m) for m in ("GET", "head", "PUT", "DELETE", "PATCH"))
    assert not is_idempotent("POST")


# Writes are never blindly repeated ------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_answered_5xx_is_ambiguous_and_sent_once(fake: FakeOmnitron, status: int) -> None:
    script(fake, Reply(status, {"detail": "boom"}))
    client = make_client(fake.url)
    with pytest.raises(AmbiguousWriteError) as caught:
        client.orders.create({"number": "A1"}, [])
    assert isinstance(caught.value, MayHaveHappened)
    assert caught.value.status_code == status
    assert len(fake.calls(CREATE)) == 1


def test_a_write_whose_connection_drops_is_ambiguous_and_sent_once(fake: FakeOmnitron) -> None:
    script(fake, Drop())
    client = make_client(fake.url)
    with pytest.raises(AmbiguousWriteError):
        client.orders.create({"number": "A1"}, [])
    assert len(fake.calls(CREATE)) == 1


def test_a_write_that_times_out_is_ambiguous_sent_once_and_bounded(fake: FakeOmnitron) -> None:
    script(fake, Hang(5))
    client = make_client(fake.url, timeouts=Timeouts(connect=1, read=0.3))
    started = time.monotonic()
    with pytest.raises(AmbiguousWriteError):
        client.batches.create()
    assert time.monotonic() - started < 2
    assert len(fake.calls("/api/v1/channel/7/batch_requests/")) == 1


def test_a_read_that_times_out_is_retried_then_given_up_in_bounded_time(
    fake: FakeOmnitron,
) -> None:
    fake.responder = lambda seen: Hang(5)
    client = make_client(
        fake.url, timeouts=Timeouts(connect=1, read=0.2), retry=RetryPolicy(max_attempts=3)
    )
    started = time.monotonic()
    with pytest.raises(RetryLater):
        client.http.get("channel/7/order_items/5/")
    assert time.monotonic() - started < 2
    assert len(fake.calls(ITEMS)) == 3


def test_a_write_to_a_refused_connection_is_retried_because_nothing_was_sent() -> None:
    port = free_port()  # nothing listens there
    sleeps = Sleeps()
    client = make_client(
        f"http://127.0.0.1:{port}/", sleeps=sleeps, retry=RetryPolicy(max_attempts=3)
    )
    client.http.token_cache.set("a" * 40)
    with pytest.raises(RetryLater) as caught:
        client.orders.create({"number": "A1"}, [])
    assert not isinstance(caught.value, MayHaveHappened)
    assert len(sleeps) == 2


# Status codes to errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ItemError), (406, ItemError), (404, NotFoundError), (403, ConfigurationError)],
)
def test_client_errors_are_classified_and_not_retried(
    fake: FakeOmnitron, status: int, error: type[Exception]
) -> None:
    script(fake, Reply(status, {"price": ["invalid"], "code": "x_1"}))
    client = make_client(fake.url)
    with pytest.raises(error) as caught:
        client.http.get("channel/7/order_items/5/")
    assert len(fake.calls(ITEMS)) == 1
    if isinstance(caught.value, ItemError) and status != 404:
        assert caught.value.payload == {"price": ["invalid"], "code": "x_1"}
        assert caught.value.code == "x_1"


def test_a_redirect_is_not_followed(fake: FakeOmnitron) -> None:
    script(fake, Reply(301, None, {"Location": "https://elsewhere.example.com/"}))
    client = make_client(fake.url)
    with pytest.raises(ConfigurationError):
        client.http.get("channel/7/order_items/5/")


def test_decimals_and_dates_are_sent_as_strings() -> None:
    body = {"price": Decimal("10.50"), "at": dt.date(2024, 1, 2)}
    assert encode_json(body) == b'{"price":"10.50","at":"2024-01-02"}'


# Secrets --------------------------------------------------------------------------------


def test_no_secret_reaches_logs_errors_or_reprs(
    fake: FakeOmnitron, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [Reply(401, {}), Reply(503, {}), Reply(400, {"x": ["bad"]})]
    fake.responder = lambda seen: responses.pop(0) if responses else Reply(500, {})
    client = make_client(fake.url)
    errors: list[Exception] = []
    for call in (
        lambda: client.http.get("channel/7/order_items/5/"),
        lambda: client.orders.create({"number": "A"}, []),
    ):
        try:
            call()
        except Exception as error:
            errors.append(error)
    bad = make_client(fake.url)
    bad.http._password = type(bad.http._password)("wrong-" + PASSWORD)
    try:
        bad.http.get("channel/7/order_items/5/")
    except Exception as error:
        errors.append(error)

    assert fake.issued, "the test must have produced tokens"
    texts = [caplog.text, repr(client), repr(client.http), *(repr(e) for e in errors)]
    texts += [str(e) for e in errors] + [str(getattr(e, "payload", "")) for e in errors]
    for text in texts:
        assert PASSWORD not in text
        for token in fake.issued:
            assert token not in text


def test_a_rejected_cached_token_is_followed_by_one_own_login(fake: FakeOmnitron) -> None:
    cache = MemoryTokenCache()
    client = make_client(fake.url, cache=cache)
    client.http.get("channel/7/order_items/5/")
    dead = {fake.issued[0], "e" * 40}
    cache.set("e" * 40)  # another worker's token, which is already dead as well
    fake.responder = lambda seen: (
        Reply(401, {}) if seen.headers["Authorization"][6:] in dead else Reply(200, {"pk": 5})
    )
    assert client.http.get("channel/7/order_items/5/") == {"pk": 5}
    assert fake.logins == 2
    assert len(fake.calls(ITEMS)) == 1 + 3  # first call; then stale, cached, fresh token


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers the method and timeouts of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.extensions.get("timeout")))
        return super().handle_request(request)


def test_every_request_has_a_connect_and_read_timeout_and_no_redirects(
    fake: FakeOmnitron,
) -> None:
    fake.responder = lambda seen: (
        page([{"pk": 1}]) if seen.method == "GET" else Reply(200, {"pk": 1, "status": "commit"})
    )
    transport = RecordingTransport()
    client = make_client(fake.url, transport=transport, timeouts=Timeouts(connect=1.5, read=7))
    list(client.products.find())
    client.batches.create()
    client.attributes.update(3, {"name": "x"})
    assert [method for method, _ in transport.sent] == ["POST", "GET", "POST", "PATCH"]
    expected = {"connect": 1.5, "read": 7, "write": 7, "pool": 1.5}
    assert all(timeout == expected for _, timeout in transport.sent)
    fake.responder = lambda seen: Reply(302, {}, {"Location": "https://elsewhere.test/"})
    with pytest.raises(ConfigurationError):
        client.http.get("channel/7/order_items/5/")
    assert fake.calls(ITEMS)[-1].method == "GET" and len(fake.calls(ITEMS)) == 1


def test_an_unreachable_token_cache_means_retry_later(fake: FakeOmnitron) -> None:
    cache = RedisTokenCache(
        redis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)),
        fake.url,
        "channel-bot",
    )
    client = make_client(fake.url, cache=cache)  # type: ignore[arg-type]
    with pytest.raises(RetryLater):
        client.http.get("channel/7/order_items/5/")
    assert fake.seen == []
