"""Smoke: the marketplace starts from the CLI; key, categories, upsert, batch, typed client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from channel_app_template.channel.reference.marketplace_client import ProductUpsert
from tests.support.marketplace import MarketplaceSim, marketplace_server, product_payload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def market() -> Iterator[MarketplaceSim]:
    with marketplace_server(seed=7) as server:
        yield server


def test_api_key_required(market: MarketplaceSim) -> None:
    status, body, _ = market.call("GET", "/api/v1/categories", api_key=None)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    status, _, _ = market.call("GET", "/api/v1/categories", api_key="wrong")
    assert status == 401


def test_upsert_then_batch_completes(market: MarketplaceSim) -> None:
    status, body, headers = market.call(
        "POST", "/api/v1/products", {"items": [product_payload(1), product_payload(2)]}
    )
    assert status == 202
    assert body["status"] == "processing"
    assert headers["location"] == f"/api/v1/batches/{body['batch_id']}"
    deadline = time.monotonic() + 5
    while True:
        _, batch, _ = market.call("GET", f"/api/v1/batches/{body['batch_id']}")
        if batch["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert batch["accepted_count"] == 2
    assert [i["product_id"] for i in batch["items"]] == ["MP00000001", "MP00000002"]


def test_typed_client_round_trip(market: MarketplaceSim) -> None:
    with market.client() as client:
        leaves = [c for c in client.list_categories() if c.is_leaf]
        assert {c.name for c in leaves} == {"Shirts", "Shoes", "Accessories"}
        summary = client.upsert_products([ProductUpsert.model_validate(product_payload(3))])
        batch = client.wait_for_batch(summary.batch_id, timeout=5)
        assert batch.accepted[0].sku == "SKU-0000003"
        product = client.get_product("SKU-0000003")
        assert product is not None and product.stock == 5
