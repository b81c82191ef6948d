"""In-process checks of the ASGI app (no sockets): routing rules and serialization paths."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from channel_app_template.sandbox.omnitron.app import create_app, sim_from
from channel_app_template.sandbox.omnitron.seed import seed_catalog


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(str(tmp_path / "state.db"))
    seed_catalog(sim_from(app).store, 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test_client = TestClient(app)
    token = test_client.post(
        "/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"}
    ).json()["key"]
    test_client.headers["Authorization"] = f"Token {token}"
    yield test_client


def test_routes_live_only_under_api_v1_i1_or_sandbox(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "r.db"))
    routes = app.app.routes  # type: ignore[attr-defined]
    paths = [r.path for r in routes if isinstance(r, Route)]
    assert len(paths) > 50
    for path in paths:
        if path.startswith("/_sandbox/") and not path.endswith("/"):
            continue  # /_sandbox/docs, /_sandbox/openapi.json
        # /api/i1/: the ERP integration API (merchant-side stock, price and image upserts)
        assert path.startswith(("/api/v1/", "/api/i1/", "/_sandbox/")), path
        assert path.endswith("/"), path
        assert not (path.startswith("/api/") and "_sandbox" in path)


@pytest.mark.parametrize(
    "resource",
    [
        "products",
        "channel/1/product_prices",
        "channel/1/product_stocks",
        "channel/1/product_images",
        "channel/1/category_nodes",
        "channel/1/attributes",
        "channel/1/cargos",
        "channel/1/cities",
        "content_types",
    ],
)
def test_fast_list_json_equals_detail_serialization(client: TestClient, resource: str) -> None:
    listed = client.get(f"/api/v1/{resource}/?limit=3").json()["results"]
    assert listed
    for row in listed:
        key = row.get("pk", row.get("id"))
        detail = client.get(f"/api/v1/{resource}/{key}/").json()
        assert row == detail
        assert list(row) == list(detail)  # same key order too


def test_list_responses_are_valid_json_with_unicode(client: TestClient) -> None:
    raw = client.get("/api/v1/channel/1/countries/").content
    assert json.loads(raw)["results"][0]["name"] == "Türkiye"


def test_ignored_filters_are_reported(client: TestClient) -> None:
    response = client.get("/api/v1/products/?bogus=1&limit=1")
    assert response.headers["X-Sandbox-Ignored-Filters"] == "bogus"


def test_count_cache_sees_writes(client: TestClient) -> None:
    assert client.get("/api/v1/products/?limit=1").json()["count"] == 15
    client.post("/api/v1/products/", json={"name": "n", "sku": "NEW-1"})
    assert client.get("/api/v1/products/?limit=1").json()["count"] == 16


def test_reset_restores_bootstrap(client: TestClient) -> None:
    counts = client.post("/_sandbox/reset/", json={}).json()
    assert counts["products"] == 0 and counts["channels"] == 1
    assert client.get("/api/v1/products/").status_code == 401  # tokens are wiped too


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/products/", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "detail" in response.json()


DOCUMENTED_GETS = [
    "/api/v1/channels/1/",
    "/api/v1/catalogs/1/",
    "/api/v1/active_user/",
    "/api/v1/content_types/?model=product",
    "/api/v1/products/",
    "/api/v1/channel/1/category_trees/1/",
    "/api/v1/channel/1/category_nodes/1/",
    "/api/v1/channel/1/category_nodes/1/detailed/",
    "/api/v1/channel/1/category_nodes/",
    "/api/v1/channel/1/cancellation_reasons/",
    "/api/v1/channel/1/cancellation_requests/",
    "/api/v1/channel/1/cancellation_requests/updates/",
    "/api/v1/channel/1/attribute_set_configs/",
    "/api/v1/channel/1/attribute_sets/",
    "/api/v1/channel/1/attributes/",
    "/api/v1/channel/1/attributes/1/",
    "/api/v1/channel/1/attribute_schemas/",
    "/api/v1/channel/1/attribute_configs/",
    "/api/v1/channel/1/attribute_configs/detailed/",
    "/api/v1/channel/1/attribute_values/",
    "/api/v1/channel/1/attribute_values/1/",
    "/api/v1/channel/1/attribute_value_configs/",
    "/api/v1/channel/1/batch_requests/",
    "/api/v1/channel/1/products/",
    "/api/v1/channel/1/products/inserts/",
    "/api/v1/channel/1/products/updates/",
    "/api/v1/channel/1/products/inserts_or_updates/",
    "/api/v1/channel/1/integration_actions/",
    "/api/v1/channel/1/integration_actions/deleted/",
    "/api/v1/channel/1/product_prices/",
    "/api/v1/channel/1/product_prices/inserts/",
    "/api/v1/channel/1/product_prices/updates/",
    "/api/v1/channel/1/product_stocks/",
    "/api/v1/channel/1/product_stocks/inserts/",
    "/api/v1/channel/1/product_stocks/updates/",
    "/api/v1/channel/1/mapped_products/1/",
    "/api/v1/channel/1/product_images/",
    "/api/v1/channel/1/product_images/inserts/",
    "/api/v1/channel/1/product_images/updates/",
    "/api/v1/channel/1/orders/",
    "/api/v1/channel/1/orders/updates/",
    "/api/v1/channel/1/price_lists/",
    "/api/v1/channel/1/stock_lists/",
    "/api/v1/channel/1/cargos/",
    "/api/v1/channel/1/cargos/1/",
    "/api/v1/channel/1/customers/",
    "/api/v1/channel/1/countries/",
    "/api/v1/channel/1/cities/",
    "/api/v1/channel/1/townships/",
    "/api/v1/channel/1/districts/",
    "/api/v1/channel/1/addresses/",
    "/api/v1/channel/1/order_shipping_infos/",
    "/api/v1/channel/1/error_reports/",
    "/api/v1/channel/1/order_items/",
    "/api/v1/channel/1/product_categories/detailed/?product=1",
    "/api/v1/channel/1/extra_product_prices/?price_list=2",
    "/api/v1/channel/1/extra_product_prices/inserts/?price_list=2",
    "/api/v1/channel/1/extra_product_prices/updates/?price_list=2",
    "/api/v1/channel/1/extra_product_stocks/?stock_list=2",
    "/api/v1/channel/1/extra_product_stocks/inserts/?stock_list=2",
    "/api/v1/channel/1/extra_product_stocks/updates/?stock_list=2",
    "/api/v1/channel/1/retail_stores/?erp_code=STORE1",
]


@pytest.mark.parametrize("path", DOCUMENTED_GETS)
def test_every_documented_read_answers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    body = response.json()
    if "pk" not in body and "key" not in body and "username" not in body:
        assert {"count", "next", "previous", "results"} <= set(body), path


def test_a_fault_rule_is_deleted_once_then_404(client: TestClient) -> None:
    rule = client.post(
        "/_sandbox/faults/rules/", json={"pattern": "/products/", "action": "error", "status": 503}
    ).json()
    assert client.get("/_sandbox/faults/").json()["rules"] != []
    assert client.delete(f"/_sandbox/faults/rules/{rule['id']}/").status_code == 204
    assert client.delete(f"/_sandbox/faults/rules/{rule['id']}/").status_code == 404
    assert client.get("/_sandbox/faults/").json()["rules"] == []
