"""The marketplace client's wire rules against a scripted transport (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest

from channel_app_template.channel.reference.marketplace_client import (
    MarketplaceClient,
    PriceUpdate,
    ProductUpsert,
    RetryPolicy,
    StockUpdate,
)
from channel_app_template.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    RateLimited,
    RetryLater,
    RunError,
)
from tests.support.marketplace import product_payload

Build = Callable[[httpx.Request], httpx.Response]
Step = Build | Exception


def answer(status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> Build:
    def build(request: httpx.Request) -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=dict(headers or {}))

    return build


class Script(httpx.MockTransport):
    """Answers requests from a list of steps; records what was sent."""

    def __init__(self, steps: list[Step]) -> None:
        super().__init__(self.reply)
        self.steps = list(steps)
        self.sent: list[httpx.Request] = []
        self.timeouts: list[Any] = []

    def reply(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        self.timeouts.append(request.extensions.get("timeout"))
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step(request)


def make(steps: list[Step], **kwargs: Any) -> tuple[MarketplaceClient, Script, list[float]]:
    script = Script(steps)
    sleeps: list[float] = []
    client = MarketplaceClient(
        "http://market.test",
        "k",
        transport=script,
        sleep=sleeps.append,
        retry=kwargs.pop("retry", RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.02)),
        **kwargs,
    )
    return client, script, sleeps


BATCH = {
    "batch_id": "b-1",
    "kind": "product_upsert",
    "status": "processing",
    "item_count": 1,
    "created_at": "2026-01-01T00:00:00.000Z",
}


def test_headers_timeouts_and_body() -> None:
    client, script, _ = make([answer(202, BATCH)])
    summary = client.upsert_products([ProductUpsert.model_validate(product_payload(1))])
    assert summary.batch_id == "b-1" and not summary.completed
    sent = script.sent[0]
    assert str(sent.url) == "http://market.test/api/v1/products"
    assert sent.headers["X-Api-Key"] == "k"
    assert sent.headers["Idempotency-Key"]
    assert script.timeouts[0] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 5.0}
    item = json.loads(sent.content or b"{}")["items"][0]
    assert item["price"] == {"list_price": "120.00", "sale_price": "99.90", "currency": "TRY"}
    assert "description" in item


def test_optional_fields_are_left_out() -> None:
    client, script, _ = make([answer(202, BATCH)])
    client.upsert_products(
        [ProductUpsert(sku="A", title="T", brand="B", category_id=1001, barcode="12345678")]
    )
    item = json.loads(script.sent[0].content or b"{}")["items"][0]
    assert set(item) == {"sku", "title", "brand", "category_id", "barcode", "attributes"}


def test_upsert_is_retried_with_the_same_idempotency_key() -> None:
    client, script, sleeps = make([httpx.ReadTimeout("lost"), answer(503), answer(202, BATCH)])
    client.upsert_products([ProductUpsert.model_validate(product_payload(1))])
    keys = {r.headers["Idempotency-Key"] for r in script.sent}
    assert len(script.sent) == 3 and len(keys) == 1
    assert len(sleeps) == 2


def test_non_idempotent_call_is_not_repeated_after_doubt() -> None:
    client, script, _ = make([httpx.ReadTimeout("lost")])
    with pytest.raises(AmbiguousWriteError):
        client.request("POST", "/orders/ack", json_body={}, idempotent=False)
    assert len(script.sent) == 1
    client, script, _ = make([answer(502)])
    with pytest.raises(AmbiguousWriteError) as caught:
        client.request("POST", "/orders/ack", json_body={})
    assert caught.value.status_code == 502 and len(script.sent) == 1


def test_non_idempotent_call_is_repeated_when_nothing_was_sent() -> None:
    refused = httpx.ConnectTimeout("connect timed out")
    client, script, _ = make([refused, answer(429, None, {"Retry-After": "0"}), answer(200, {})])
    assert client.request("POST", "/orders/ack", json_body={}) == {}
    assert len(script.sent) == 3


def test_retry_after_is_honoured() -> None:
    client, _, sleeps = make(
        [answer(429, {"error": {"code": "rate_limited"}}, {"Retry-After": "3"}), answer(200, {})]
    )
    client.request("GET", "/categories")
    assert sleeps == [3.0]


def test_long_retry_after_is_raised_not_slept() -> None:
    client, _, sleeps = make([answer(429, None, {"Retry-After": "120"})])
    with pytest.raises(RateLimited) as caught:
        client.update_stock([StockUpdate(sku="A", quantity=1)])
    assert caught.value.retry_after == 120 and sleeps == []


def test_attempts_are_bounded() -> None:
    client, script, _ = make([answer(503)] * 4)
    with pytest.raises(RetryLater):
        client.request("GET", "/categories")
    assert len(script.sent) == 4
    client, script, _ = make([answer(429, None, {"Retry-After": "1"})] * 4)
    with pytest.raises(RateLimited):
        client.request("GET", "/categories")
    client, script, _ = make([httpx.ReadError("reset")] * 4)
    with pytest.raises(RetryLater):
        client.list_categories()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (400, RunError),
        (413, RunError),
        (409, RunError),
    ],
)
def test_final_statuses(status: int, error: type[Exception]) -> None:
    client, script, _ = make([answer(status, {"error": {"code": "x", "message": "m"}})])
    with pytest.raises(error) as caught:
        client.update_prices([PriceUpdate(sku="A", list_price=Decimal("1"))])
    assert getattr(caught.value, "status_code", None) == status
    assert getattr(caught.value, "code", None) == "x"  # the marketplace's error code
    assert len(script.sent) == 1


def test_get_product_returns_none_on_404() -> None:
    client, _, _ = make([answer(404, {"error": {"code": "not_found", "message": "m"}})])
    assert client.get_product("a/b") is None


def test_unexpected_shapes_are_run_errors() -> None:
    client, _, _ = make([answer(200, {"items": [{"id": "x"}]})])
    with pytest.raises(RunError):
        client.list_categories()

    def not_json(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>", headers={"Content-Type": "text/html"})

    client, _, _ = make([not_json])
    with pytest.raises(RunError):
        client.request("GET", "/categories")


def test_batch_pages_are_joined() -> None:
    item = {"index": 0, "sku": "A", "status": "accepted", "product_id": "MP1", "reasons": []}
    done = {**BATCH, "status": "completed", "accepted_count": 2, "rejected_count": 0}
    client, script, _ = make(
        [
            answer(200, {**done, "items": [item], "next_offset": 1}),
            answer(200, {**done, "items": [{**item, "index": 1}], "next_offset": None}),
        ]
    )
    batch = client.get_batch("b-1")
    assert [i.index for i in batch.items] == [0, 1] and batch.completed
    assert script.sent[1].url.params["offset"] == "1"


def test_wait_for_batch_gives_up() -> None:
    now = [0.0]
    client, _, _ = make([answer(200, BATCH)] * 3, clock=lambda: now[0])
    client._sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)
    with pytest.raises(RetryLater):
        client.wait_for_batch("b-1", timeout=0.5, interval=0.25)


def test_request_size_and_configuration_guards() -> None:
    client, script, _ = make([])
    with pytest.raises(ValueError, match="at most 1000"):
        client.update_stock([StockUpdate(sku=f"S{i}", quantity=1) for i in range(1001)])
    with pytest.raises(ValueError, match="at least one"):
        client.delete_products([])
    assert script.sent == []
    with pytest.raises(ConfigurationError):
        MarketplaceClient("market.test", "k")
    with pytest.raises(ConfigurationError):
        MarketplaceClient("http://market.test", "")
    assert "secret-key" not in repr(MarketplaceClient("http://market.test", "secret-key"))
