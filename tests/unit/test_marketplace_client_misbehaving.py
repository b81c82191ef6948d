"""The reference marketplace client against a marketplace that misbehaves (loopback server):
lists that never end, junk pages, huge or trickled answers, wrong shapes. Each ends quickly
with an error naming the marketplace and the path; the responders stop misbehaving after a
while, so old code fails instead of hanging."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from channel_app_template.channel.reference.marketplace_client import (
    MarketOrder,
    MarketplaceClient,
    RetryPolicy,
    UnreadableOrder,
)
from channel_app_template.transport import (
    DeadlineExceeded,
    Limits,
    PagingError,
    ResponseTooLarge,
    Timeouts,
    UnexpectedAnswer,
)
from tests.support.fake_omnitron import (
    FakeOmnitron,
    Reply,
    Seen,
    huge_body,
    running_fake,
    trickled_body,
)

PEER = "the reference marketplace"
GUARD = 30  # requests after which the fake gives up misbehaving (an empty last page)


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


def client(fake: FakeOmnitron, **options: Any) -> MarketplaceClient:
    options.setdefault("retry", RetryPolicy(max_attempts=2, backoff_base=0.01, max_elapsed=30))
    return MarketplaceClient(fake.url, "k", sleep=lambda seconds: None, **options)


def guarded(body: dict[str, Any], last: dict[str, Any]) -> Any:
    calls = [0]

    def responder(seen: Seen) -> Reply:
        calls[0] += 1
        return Reply(200, body if calls[0] <= GUARD else last)

    return responder


def product(n: int) -> dict[str, Any]:
    return {
        "product_id": f"MP{n:08d}",
        "sku": f"S{n}",
        "status": "active",
        "title": "T",
        "brand": "B",
        "category_id": 1,
        "barcode": "12345678",
        "attributes": {},
        "images": [],
        "stock": 1,
        "buyable": True,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def test_next_offset_zero_forever_is_refused(fake: FakeOmnitron) -> None:
    fake.responder = guarded(
        {"count": 10**6, "items": [product(1)], "next_offset": 0},
        {"count": 0, "items": [], "next_offset": None},
    )
    with pytest.raises(PagingError) as caught:
        list(client(fake).iter_products())
    error = caught.value
    assert error.reason == "not_forward" and error.peer == PEER and error.path == "/products"
    assert str(error).startswith(f"{PEER} GET /products:")
    assert len(fake.seen) == 1


def test_a_batch_whose_items_never_end_is_refused(fake: FakeOmnitron) -> None:
    envelope = {
        "batch_id": "b-1",
        "kind": "product_upsert",
        "status": "completed",
        "item_count": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "total_items": 1,
    }
    item = {"index": 0, "sku": "A", "status": "accepted", "product_id": "MP1", "reasons": []}
    fake.responder = guarded(
        {**envelope, "items": [item], "next_offset": 0}, {**envelope, "items": []}
    )
    with pytest.raises(PagingError, match="/batches/b-1"):
        client(fake).get_batch("b-1")
    assert len(fake.seen) == 1


def test_a_repeated_cursor_is_refused(fake: FakeOmnitron) -> None:
    event = {
        "id": "EV1",
        "type": "line_update",
        "order_id": "MO1",
        "order_number": "1",
        "created_at": "2026-01-01T00:00:00Z",
        "acknowledged": False,
    }
    fake.responder = guarded(
        {"items": [event], "next_cursor": "7"}, {"items": [], "next_cursor": None}
    )
    with pytest.raises(PagingError) as caught:
        list(client(fake).iter_order_events())
    assert caught.value.reason in {"cursor_repeated", "page_repeated"}
    assert len(fake.seen) == 2


def test_empty_pages_with_a_cursor_end_the_list(fake: FakeOmnitron) -> None:
    cursor = iter(range(10**6))

    def responder(seen: Seen) -> Reply:
        number = next(cursor)
        return Reply(200, {"items": [], "next_cursor": str(number) if number < GUARD else None})

    fake.responder = responder
    assert list(client(fake).iter_orders()) == []
    assert len(fake.seen) == 1


def test_a_page_of_junk_rows_beyond_the_limit_is_refused(fake: FakeOmnitron) -> None:
    junk = [{"id": f"J{n}"} for n in range(5000)]
    fake.responder = guarded({"items": junk, "next_cursor": None}, {"items": []})
    orders: list[MarketOrder | UnreadableOrder] = []
    with pytest.raises(PagingError, match="5000 rows, asked for at most 100"):
        orders.extend(client(fake).iter_orders())
    assert orders == []  # not one junk row was processed as an order


def test_a_huge_answer_is_refused(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: huge_body(100 * 2**20, declared=False)
    with pytest.raises(ResponseTooLarge) as caught:
        client(fake, limits=Limits(max_response_bytes=2**20)).list_categories()
    assert caught.value.peer == PEER and caught.value.path == "/categories"


def test_a_trickled_answer_is_cut_at_the_deadline(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: trickled_body(600, 0.2)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=f"^{PEER} GET /categories/tree"):
        client(fake, timeouts=Timeouts(connect=2, read=5, total=1)).category_tree()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([{"id": 1}], "expected a JSON object, got a list"),
        ({"items": {"id": 1}}, "expected a list in 'items', got a dict"),
        ({"data": []}, "expected a list in 'items', got nothing"),
    ],
)
def test_a_wrong_shape_names_the_marketplace_and_the_path(
    fake: FakeOmnitron, body: Any, fragment: str
) -> None:
    fake.responder = lambda seen: Reply(200, body)
    with pytest.raises(UnexpectedAnswer) as caught:
        client(fake).list_categories()
    assert str(caught.value) == f"{PEER} GET /categories: {fragment}"


def test_a_product_row_without_its_id_names_the_marketplace(fake: FakeOmnitron) -> None:
    broken = {k: v for k, v in product(1).items() if k != "product_id"}
    fake.responder = lambda seen: Reply(200, {"count": 1, "items": [broken], "next_offset": None})
    with pytest.raises(UnexpectedAnswer, match=r"^the reference marketplace /products: .*"):
        list(client(fake).iter_products())
