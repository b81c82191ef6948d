"""The typed client against a real marketplace: retries, 429 + Retry-After, no blind retry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from channel_app_template.channel.reference.marketplace_client import (
    ImageUpdate,
    MarketplaceClient,
    PriceUpdate,
    ProductUpsert,
    RetryPolicy,
    StockUpdate,
)
from channel_app_template.errors import AmbiguousWriteError, AuthenticationError, RateLimited
from tests.support.marketplace import MarketplaceSim, marketplace_server, product_payload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shared() -> Iterator[MarketplaceSim]:
    with marketplace_server(seed=9) as server:
        yield server


@pytest.fixture
def market(shared: MarketplaceSim) -> MarketplaceSim:
    shared.reset()
    shared.settings(batch_delay_seconds=0.1, rate_limit=0)
    return shared


def products(*numbers: int) -> list[ProductUpsert]:
    return [ProductUpsert.model_validate(product_payload(n)) for n in numbers]


def test_full_catalog_cycle(market: MarketplaceSim) -> None:
    with market.client() as client:
        tree = client.category_tree()
        assert [n.name for n in tree] == ["Women", "Men", "Home"]
        attrs = {a.code: a for a in client.category_attributes(tree[0].children[0].id)}
        assert attrs["color"].required and [v.code for v in attrs["size"].values][:2] == ["S", "M"]
        assert client.get_category(1001).path == "Women > Shirts"
        assert [a.code for a in client.list_attributes()] == ["color", "size", "material"]
        assert len(client.attribute_values(1)) == 5

        bad = ProductUpsert.model_validate(product_payload(3, category_id=999))
        batch = client.wait_for_batch(client.upsert_products([*products(1, 2), bad]).batch_id)
        assert [i.ok for i in batch.items] == [True, True, False]
        assert batch.rejected[0].reasons[0].code == "unknown_category"
        assert "unknown_category" in batch.rejected[0].message

        stock = client.update_stock([StockUpdate(sku="SKU-0000001", quantity=0)])
        assert stock.accepted_count == 1
        prices = client.update_prices(
            [
                PriceUpdate(sku="SKU-0000002", list_price=Decimal("50"), currency="USD"),
                PriceUpdate(sku="SKU-0000404", list_price=Decimal("5")),
            ]
        )
        assert [i.ok for i in prices.items] == [True, False]
        assert prices.rejected[0].reasons[0].code == "unknown_sku"
        images = client.update_images(
            [ImageUpdate(sku="SKU-0000002", images=["https://cdn.example.com/x.jpg"])]
        )
        assert client.wait_for_batch(images.batch_id).accepted_count == 1

        product = client.get_product("SKU-0000002")
        assert product is not None
        assert product.price is not None and product.price.currency == "USD"
        assert product.images == ["https://cdn.example.com/x.jpg"]
        assert [p.sku for p in client.iter_products()] == ["SKU-0000001", "SKU-0000002"]
        assert [p.sku for p in client.iter_products(["SKU-0000002"])] == ["SKU-0000002"]

        assert client.delete_products(["SKU-0000001"]).items[0].ok
        assert client.delete_products(["SKU-0000001"]).items[0].ok  # idempotent
        gone = client.get_product("SKU-0000001")
        assert gone is not None and gone.status == "deleted"
        assert client.get_product("SKU-0000404") is None
        by_id = client.delete_products_by_id(["MP00000002", "MP00000404"])
        assert [(i.ok, i.sku) for i in by_id.items] == [(True, "SKU-0000002"), (False, None)]
        assert by_id.rejected[0].reasons[0].code == "unknown_product"
        assert list(client.iter_products()) == []


def test_transient_errors_are_retried(market: MarketplaceSim) -> None:
    market.fault(pattern="/categories$", action="error", status=503, times=2)
    market.fault(pattern="/attributes$", action="drop", times=1)
    with market.client() as client:
        assert len(client.list_categories()) == 12
        assert len(client.list_attributes()) == 3
        assert client.retries == 3


def test_429_is_honoured_with_retry_after(market: MarketplaceSim) -> None:
    market.settings(rate_limit=2, rate_burst=1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with market.client(sleep=sleep) as client:
        client.list_categories()
        assert client.rate_limit_remaining == 0
        # the bucket is empty: the server answers 429 + Retry-After 1 until a token is back
        assert len(client.list_categories()) == 12
    assert slept == [1.0]


def test_long_retry_after_becomes_rate_limited(market: MarketplaceSim) -> None:
    market.fault(pattern="/products/stock", action="error", status=429, retry_after=90)
    with market.client() as client, pytest.raises(RateLimited) as caught:
        client.update_stock([StockUpdate(sku="A", quantity=1)])
    assert caught.value.retry_after == 90


def test_lost_upsert_response_is_retried_into_the_same_batch(market: MarketplaceSim) -> None:
    market.fault(pattern="/products$", action="lost_response", times=1)
    with market.client() as client:
        summary = client.upsert_products(products(1, 2))
        assert client.retries == 1
        assert market.inspect("counts/")["batches"] == 1  # the replay found the first batch
        batch = client.wait_for_batch(summary.batch_id)
        assert batch.accepted_count == 2


def test_non_idempotent_call_is_never_blindly_repeated(market: MarketplaceSim) -> None:
    market.fault(pattern="/products$", action="lost_response", times=1)
    with market.client() as client, pytest.raises(AmbiguousWriteError):
        client.request(
            "POST",
            "/products",
            json_body={"items": [product_payload(1)]},
            idempotent=False,
        )
    assert market.inspect("counts/")["batches"] == 1  # applied once, not repeated
    market.fault(pattern="/products$", action="error", status=500, times=1)
    with market.client() as client, pytest.raises(AmbiguousWriteError):
        client.request("POST", "/products", json_body={"items": [product_payload(2)]})
    assert market.inspect("counts/")["batches"] == 1


def test_bad_key_is_a_configuration_error(market: MarketplaceSim) -> None:
    client = MarketplaceClient(
        market.url, "wrong", retry=RetryPolicy(max_attempts=2, backoff_base=0.01)
    )
    with client, pytest.raises(AuthenticationError) as caught:
        client.list_categories()
    assert caught.value.status_code == 401 and caught.value.code == "unauthorized"
