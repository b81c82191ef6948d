"""The Omnitron client against an Omnitron that misbehaves: lists that never end, answers too
big, too slow or of the wrong shape. Each ends quickly with an error naming Omnitron and the
path (the responders stop looping after a while, so old code fails instead of hanging)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from channel_app_template.errors import AmbiguousWriteError, RunError
from channel_app_template.transport import (
    DeadlineExceeded,
    Limits,
    PagingError,
    ResponseTooLarge,
    RetryPolicy,
    Timeouts,
    UnexpectedAnswer,
)
from tests.support.fake_omnitron import (
    LOGIN,
    FakeOmnitron,
    Raw,
    Reply,
    Seen,
    huge_body,
    make_client,
    page,
    running_fake,
    trickled_body,
)

PRODUCTS = "/api/v1/channel/7/products/"
GUARD = 30  # requests after which the fake gives up misbehaving (an empty page)


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


def listing(fake: FakeOmnitron) -> list[Seen]:
    return [seen for seen in fake.seen if seen.path != LOGIN]


def guarded(answer: Reply | Raw) -> object:
    """Answer ``answer`` to the first ``GUARD`` list calls, then an empty last page."""
    calls = [0]

    def responder(seen: Seen) -> Reply | Raw:
        calls[0] += 1
        return answer if calls[0] <= GUARD else page([])

    return responder


def test_an_omnitron_ignoring_page_is_stopped_on_the_second_page(fake: FakeOmnitron) -> None:
    rows = [{"pk": 1, "name": "a"}, {"pk": 2, "name": "b"}]
    fake.responder = guarded(page(rows, "https://o.test/?page=2", count=10**6))  # type: ignore[assignment]
    client = make_client(fake.url)
    with pytest.raises(PagingError) as caught:
        for _ in client.products.find(page_size=2):
            pass
    error = caught.value
    assert error.reason == "page_repeated" and error.peer == "Omnitron"
    assert error.path == "channel/7/products/" and "Omnitron GET channel/7/products/" in str(error)
    assert len(listing(fake)) == 2


def test_a_list_longer_than_its_count_is_stopped(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        if number > GUARD:
            return page([])
        return page([{"pk": number * 10 + n} for n in range(2)], "more", count=2)

    fake.responder = responder
    with pytest.raises(PagingError, match="more than"):
        list(make_client(fake.url).products.find(page_size=2))
    assert len(listing(fake)) <= 3  # 2 announced + one page of slack


def test_a_page_longer_than_the_limit_is_refused(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([{"pk": n} for n in range(500)])
    with pytest.raises(PagingError, match="500 rows, asked for at most 100"):
        list(make_client(fake.url).products.find())


def test_the_page_cap_comes_from_the_client_limits(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        return page([{"pk": number}], None if number > GUARD else "more", count=10**6)

    fake.responder = responder
    client = make_client(fake.url, limits=Limits(max_pages=3))
    with pytest.raises(PagingError, match="HTTP_MAX_PAGES"):
        list(client.products.find(page_size=1))
    assert len(listing(fake)) == 3


def test_a_huge_page_fails_without_being_held(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: huge_body(100 * 2**20, declared=False)
    client = make_client(fake.url, limits=Limits(max_response_bytes=2**20))
    with pytest.raises(ResponseTooLarge) as caught:
        list(client.products.find())
    assert caught.value.peer == "Omnitron" and caught.value.path == "channel/7/products/"


def test_a_trickling_omnitron_is_cut_at_the_deadline(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: trickled_body(600, 0.2)
    client = make_client(
        fake.url,
        timeouts=Timeouts(connect=2, read=5, total=1),
        retry=RetryPolicy(max_attempts=2, backoff_base=0.01, max_elapsed=30),
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="Omnitron GET channel/7/order_items/5/"):
        client.http.get("channel/7/order_items/5/")
    assert time.monotonic() - started < 30
    assert len(listing(fake)) == 2  # a read: retried once, then given up


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([{"pk": 1}, {"pk": 2}], "expected a JSON object, got a list"),
        ("ok", "expected a JSON object, got a str"),
    ],
)
def test_a_wrong_shape_for_one_object_names_omnitron_and_the_path(
    fake: FakeOmnitron, body: object, fragment: str
) -> None:
    fake.responder = lambda seen: Reply(200, body)
    with pytest.raises(UnexpectedAnswer) as caught:
        make_client(fake.url).channel.get()
    assert str(caught.value) == f"Omnitron GET channels/7/: {fragment}"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"detail": "?"}, "an object without a 'results' list"),
        ({"results": {"pk": 1}}, "an object without a 'results' list"),
        ("<html>", "a str"),
    ],
)
def test_a_wrong_page_envelope_names_omnitron_and_the_path(
    fake: FakeOmnitron, body: object, fragment: str
) -> None:
    fake.responder = lambda seen: Reply(200, body)
    with pytest.raises(UnexpectedAnswer) as caught:
        list(make_client(fake.url).products.find())
    assert str(caught.value) == (
        f"Omnitron GET channel/7/products/: expected a page of results, got {fragment}"
    )


def test_html_instead_of_json_names_omnitron(fake: FakeOmnitron) -> None:
    html = b"<html>maintenance</html>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(html)
    fake.responder = lambda seen: Raw([head + html])
    with pytest.raises(UnexpectedAnswer) as caught:
        make_client(fake.url).http.get("channel/7/", {"secret_filter": "x"})
    message = str(caught.value)
    assert message.startswith("Omnitron GET channel/7/: answered 200 with a body that is not JSON")
    assert "secret_filter" not in message
    fake.responder = lambda seen: Raw([head + html])
    with pytest.raises(AmbiguousWriteError):
        make_client(fake.url).http.post("channel/7/create_orders/", {"number": "1"})


def test_a_login_answer_without_a_token_is_an_unexpected_answer(fake: FakeOmnitron) -> None:
    fake.respond = lambda seen: Reply(200, [{"key": "x"}])  # type: ignore[method-assign]
    with pytest.raises(UnexpectedAnswer, match="no token 'key'") as caught:
        make_client(fake.url).http.get("channel/7/")
    assert isinstance(caught.value, RunError) and "x" not in str(caught.value).split(":")[-1]
