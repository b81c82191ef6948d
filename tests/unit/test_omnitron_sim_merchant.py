"""Merchant- and ERP-side edits on the Omnitron simulator's normal API, and the channel's
``conf``: every edit moves ``modified_date`` and puts the object into the channel's
``updates/`` view, as the real Omnitron does."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from channel_app_template.sandbox.common.channel_conf import (
    MAX_CONF_BYTES,
    load_channel_conf,
    parse_channel_conf,
)
from channel_app_template.sandbox.omnitron.app import create_app, sim_from
from channel_app_template.sandbox.omnitron.seed import SEED_TIME, seed_catalog

CHANNEL = "/api/v1/channel/1"


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(":memory:")
    seed_catalog(sim_from(app).store, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test_client = TestClient(app)
    token = test_client.post(
        "/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"}
    ).json()["key"]
    test_client.headers["Authorization"] = f"Token {token}"
    yield test_client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def mark_all_sent(client: TestClient, model: str, path: str) -> None:
    """Record every object of ``model`` as synced at its current ``modified_date`` (what a
    finished batch does), so only later edits show in ``updates/``."""
    for row in ok(client.get(f"{path}?limit=1000"))["results"]:
        ok(
            client.post(
                f"{CHANNEL}/integration_actions/",
                json={
                    "content_type": model,
                    "object_id": row["pk"],
                    "remote_id": f"R{row['pk']}",
                    "version_date": row["modified_date"],
                },
            ),
            201,
        )


def updates(client: TestClient, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(client.get(f"{CHANNEL}/{name}/updates/?limit=1000"))["results"]
    return rows


def test_a_stock_upsert_by_sku_moves_the_stock_into_updates(client: TestClient) -> None:
    mark_all_sent(client, "product", "/api/v1/products/")
    mark_all_sent(client, "productstock", f"{CHANNEL}/product_stocks/")
    assert updates(client, "product_stocks") == []
    row = ok(
        client.post(
            "/api/i1/product_stock/",
            json={"product_sku": "SKU-0000002", "stock_list": 1, "stock": 41},
        )
    )
    assert row["stock"] == 41 and row["product_sku"] == "SKU-0000002"
    assert row["modified_date"] > SEED_TIME
    changed = updates(client, "product_stocks")
    assert [(r["pk"], r["stock"], r["modified_date"]) for r in changed] == [
        (row["pk"], 41, row["modified_date"])
    ]


def test_a_price_upsert_on_a_list_and_a_new_row(client: TestClient) -> None:
    mark_all_sent(client, "product", "/api/v1/products/")
    mark_all_sent(client, "productprice", f"{CHANNEL}/product_prices/")
    row = ok(
        client.post(
            "/api/i1/product_price/",
            json={"product_sku": "SKU-0000003", "price_list": 1, "price": "99.90"},
        )
    )
    assert row["price"] == "99.90" and row["price_list"] == 1
    assert [r["pk"] for r in updates(client, "product_prices")] == [row["pk"]]
    extra = client.get(f"{CHANNEL}/extra_product_prices/?price_list=2&product=3").json()
    assert extra["results"][0]["price"] != "99.90"  # the other list is untouched
    new = client.post(
        "/api/i1/product_stock/", json={"product_sku": "SKU-0000003", "stock_list": 1, "stock": 1}
    )
    assert new.status_code == 200  # the row existed: updated, not created
    client.post("/api/v1/products/", json={"name": "New", "sku": "NEW-1"})
    created = client.post(
        "/api/i1/product_stock/", json={"product_sku": "NEW-1", "stock_list": 1, "stock": 5}
    )
    assert created.status_code == 201 and created.json()["stock"] == 5


def test_upserts_take_lists_all_or_nothing(client: TestClient) -> None:
    before = ok(client.get("/api/i1/product_stock/?limit=100"))["results"]
    response = client.post(
        "/api/i1/product_stock/",
        json=[
            {"product_sku": "SKU-0000001", "stock_list": 1, "stock": 3},
            {"product_sku": "SKU-0000002", "stock_list": 1, "stock": -1},
            {"product_sku": "NOPE", "stock_list": 1, "stock": 1},
            {"product_sku": "SKU-0000004", "stock_list": 1, "stock": 2_147_483_648},
        ],
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors[0] == {} and "stock" in errors[1] and "product_sku" in errors[2]
    assert "less than or equal to 2147483647" in errors[3]["stock"][0]
    assert ok(client.get("/api/i1/product_stock/?limit=100"))["results"] == before
    many = ok(
        client.post(
            "/api/i1/product_stock/",
            json=[{"product_sku": f"SKU-000000{n}", "stock_list": 2, "stock": n} for n in (1, 2)],
        )
    )
    assert [r["stock"] for r in many] == [1, 2]
    too_many = [{"product_sku": "SKU-0000001", "stock_list": 1, "stock": 1}] * 1001
    assert client.post("/api/i1/product_stock/", json=too_many).status_code == 400


def test_edits_by_pk_on_product_price_and_product_stock(client: TestClient) -> None:
    mark_all_sent(client, "productprice", f"{CHANNEL}/product_prices/")
    price = ok(client.get("/api/v1/product_price/?product=1&price_list=1"))["results"][0]
    patched = ok(client.patch(f"/api/v1/product_price/{price['pk']}/", json={"price": "1.5"}))
    assert patched["price"] == "1.50" and patched["modified_date"] > price["modified_date"]
    replaced = ok(
        client.put(
            f"/api/v1/product_price/{price['pk']}/",
            json={"product": 1, "price_list": 1, "price": "2.00"},
        )
    )
    assert replaced["price"] == "2.00"
    partial_put = client.put(f"/api/v1/product_price/{price['pk']}/", json={"price": "3"})
    assert partial_put.status_code == 400 and "product" in partial_put.json()
    stock = ok(client.get("/api/v1/product_stock/?product=1&stock_list=1"))["results"][0]
    bad = client.patch(f"/api/v1/product_stock/{stock['pk']}/", json={"unit_type": "litre"})
    assert bad.status_code == 400 and "unit_type" in bad.json()
    ok(client.patch(f"/api/v1/product_stock/{stock['pk']}/", json={"stock": 0}))
    assert [r["pk"] for r in updates(client, "product_prices")] == [price["pk"]]


def test_product_edits_reach_the_updates_view(client: TestClient) -> None:
    mark_all_sent(client, "product", "/api/v1/products/")
    ok(client.patch("/api/v1/products/4/", json={"name": "Renamed"}))
    product = ok(client.get("/api/v1/products/4/"))
    full = {k: product[k] for k in ("name", "sku")}
    ok(client.put("/api/v1/products/5/", json={**full, "sku": "SKU-5-NEW"}))
    assert [r["pk"] for r in updates(client, "products")] == [4, 5]


def test_the_image_upsert_replaces_a_products_images(client: TestClient) -> None:
    before = ok(client.get(f"{CHANNEL}/product_images/?product=2"))["results"]
    images = ok(
        client.post(
            "/api/i1/product_image/",
            json={
                "product_sku": "SKU-0000002",
                "images": [{"url": "/media/new-a.jpg", "order": 1}, {"url": "/media/new-b.jpg"}],
            },
        )
    )
    assert [i["image"] for i in images] == ["/media/new-b.jpg", "/media/new-a.jpg"]
    listed = ok(client.get(f"{CHANNEL}/product_images/?product=2"))["results"]
    assert {i["pk"] for i in listed} == {i["pk"] for i in images}
    assert not {i["pk"] for i in before} & {i["pk"] for i in listed}  # the old ones are gone
    deleted = ok(client.get(f"{CHANNEL}/integration_actions/deleted/?model=productimage"))
    assert deleted["count"] == 0  # never sent, so nothing to delete on the channel
    bad = client.post(
        "/api/i1/product_image/", json={"product_sku": "SKU-0000002", "images": [{"url": ""}]}
    )
    assert bad.status_code == 400


def test_channel_conf_is_read_and_replaced_at_run_time(client: TestClient) -> None:
    channel = ok(client.get("/api/v1/channels/1/"))
    conf = {"api_url": "http://127.0.0.1:9/", "api_key": "k", "remote_id_attribute": "sku"}
    assert ok(client.put("/_sandbox/channels/1/conf/", json=conf)) == conf
    after = ok(client.get("/api/v1/channels/1/"))
    assert after["conf"] == conf and after["modified_date"] > channel["modified_date"]
    merged = ok(client.patch("/_sandbox/channels/1/conf/", json={"api_key": None, "x": 1}))
    assert merged == {"api_url": "http://127.0.0.1:9/", "remote_id_attribute": "sku", "x": 1}
    assert ok(client.get("/_sandbox/channels/1/conf/")) == merged
    assert client.put("/_sandbox/channels/1/conf/", json=[1]).status_code == 400
    assert client.put("/_sandbox/channels/7/conf/", json={}).status_code == 404


def test_channel_conf_flag_values(tmp_path: Path) -> None:
    assert load_channel_conf('{"a": 1}') == {"a": 1}
    conf_file = tmp_path / "conf.json"
    conf_file.write_text(json.dumps({"api_key": "s3cret"}))
    assert load_channel_conf(f"@{conf_file}") == {"api_key": "s3cret"}
    problems = {
        "[1]": "must be a JSON object",
        "{nope": "not valid JSON",
        '{"a": NaN}': "not valid JSON",
        f"@{tmp_path / 'missing.json'}": "cannot read the file",
    }
    for value, message in problems.items():
        with pytest.raises(ValueError, match=message):
            load_channel_conf(value)
    with pytest.raises(ValueError, match="limited to"):
        parse_channel_conf(json.dumps({"k": "x" * MAX_CONF_BYTES}))
    conf_file.write_text('{"api_key": "s3cret", oops}')
    with pytest.raises(ValueError) as caught:
        load_channel_conf(f"@{conf_file}")
    assert "s3cret" not in str(caught.value)  # the error never echoes the value
