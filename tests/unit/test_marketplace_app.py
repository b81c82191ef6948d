"""In-process contract of the marketplace API (no sockets), with a hand-driven clock."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from channel_app_template.sandbox.marketplace.app import create_app, market_from
from tests.support.marketplace import product_payload

API = "/api/v1"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Any:
    return create_app(":memory:", seed=3, batch_delay=2.0, rate_limit=0, clock=clock)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test_client = TestClient(app)
    test_client.headers["X-Api-Key"] = "sandbox-key"
    yield test_client


def upsert(client: TestClient, clock: Clock, items: list[Any]) -> dict[str, Any]:
    """Post items, let the batch delay pass, return the completed batch."""
    response = client.post(f"{API}/products", json={"items": items})
    assert response.status_code == 202, response.text
    clock.now += 2.0
    batch: dict[str, Any] = client.get(f"{API}/batches/{response.json()['batch_id']}").json()
    assert batch["status"] == "completed"
    return batch


# ------------------------------------------------------------------------ auth, errors
def test_every_api_route_needs_the_key(client: TestClient) -> None:
    for method, path in [
        ("GET", "/categories"),
        ("GET", "/categories/tree"),
        ("GET", "/categories/1001"),
        ("GET", "/categories/1001/attributes"),
        ("GET", "/attributes"),
        ("GET", "/attributes/1/values"),
        ("POST", "/products"),
        ("GET", "/products"),
        ("GET", "/products/SKU-1"),
        ("PUT", "/products/stock"),
        ("PUT", "/products/prices"),
        ("PUT", "/products/images"),
        ("POST", "/products/delete"),
        ("GET", "/batches"),
        ("GET", "/batches/b-1"),
    ]:
        response = client.request(method, API + path, headers={"X-Api-Key": "nope"})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_paths_and_methods(client: TestClient) -> None:
    assert client.get(f"{API}/nothing").json()["error"]["code"] == "not_found"
    response = client.delete(f"{API}/categories")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_additional_api_keys(clock: Clock) -> None:
    app = create_app(":memory:", api_keys=["k1", "k2"], rate_limit=0, clock=clock)
    client = TestClient(app)
    assert client.get(f"{API}/categories", headers={"X-Api-Key": "k2"}).status_code == 200
    assert client.get(f"{API}/categories", headers={"X-Api-Key": "sandbox-key"}).status_code == 401


# ------------------------------------------------------------------------ categories
def test_category_tree_flat_and_nested(client: TestClient) -> None:
    flat = client.get(f"{API}/categories").json()["items"]
    assert len(flat) == 12
    assert flat[0] == {
        "id": 1000,
        "name": "Women",
        "parent_id": None,
        "path": "Women",
        "is_leaf": False,
    }
    assert {c["path"] for c in flat if c["is_leaf"]} >= {"Men > Shoes", "Home > Accessories"}
    tree = client.get(f"{API}/categories/tree").json()["items"]
    assert [n["name"] for n in tree] == ["Women", "Men", "Home"]
    assert [c["id"] for c in tree[1]["children"]] == [2001, 2002, 2003]
    assert tree[1]["children"][0]["children"] == []


def test_category_attributes(client: TestClient) -> None:
    body = client.get(f"{API}/categories/1003/attributes").json()
    by_code = {a["code"]: a for a in body["items"]}
    assert body["category_id"] == 1003
    assert by_code["color"]["required"] and by_code["color"]["type"] == "enum"
    assert not by_code["size"]["required"]  # optional for accessories
    assert by_code["material"]["type"] == "text" and by_code["material"]["max_length"] == 100
    assert by_code["material"]["values"] == []
    assert {"id": 101, "code": "red", "name": "Red"} in by_code["color"]["values"]
    detail = client.get(f"{API}/categories/1001").json()
    assert detail["path"] == "Women > Shirts"
    assert {a["code"]: a["required"] for a in detail["attributes"]}["size"] is True
    assert client.get(f"{API}/categories/1000/attributes").json()["items"] == []
    assert client.get(f"{API}/categories/5").status_code == 404
    assert client.get(f"{API}/categories/5/attributes").status_code == 404


def test_attributes_and_values(client: TestClient) -> None:
    items = client.get(f"{API}/attributes").json()["items"]
    assert [a["code"] for a in items] == ["color", "size", "material"]
    values = client.get(f"{API}/attributes/2/values").json()
    assert [v["code"] for v in values["items"]] == ["S", "M", "L", "XL"]
    assert client.get(f"{API}/attributes/9/values").status_code == 404


# ------------------------------------------------------------------------ upsert batches
def test_batch_lifecycle(client: TestClient, clock: Clock) -> None:
    response = client.post(
        f"{API}/products", json={"items": [product_payload(1), product_payload(2, title="")]}
    )
    assert response.status_code == 202
    summary = response.json()
    assert summary["status"] == "processing"
    assert summary["kind"] == "product_upsert"
    assert summary["item_count"] == 2
    assert summary["accepted_count"] is None
    assert response.headers["location"] == f"{API}/batches/{summary['batch_id']}"
    clock.now += 1.9
    pending = client.get(f"{API}/batches/{summary['batch_id']}").json()
    assert pending["status"] == "processing" and pending["items"] == []
    assert client.get(f"{API}/products/SKU-0000001").status_code == 404  # not applied yet
    clock.now += 0.1
    done = client.get(f"{API}/batches/{summary['batch_id']}").json()
    assert done["status"] == "completed"
    assert (done["accepted_count"], done["rejected_count"]) == (1, 1)
    assert done["items"] == [
        {
            "index": 0,
            "sku": "SKU-0000001",
            "status": "accepted",
            "product_id": "MP00000001",
            "reasons": [],
        },
        {
            "index": 1,
            "sku": "SKU-0000002",
            "status": "rejected",
            "product_id": None,
            "reasons": [
                {"code": "missing_field", "field": "title", "message": "title is required"}
            ],
        },
    ]
    assert done["completed_at"] is not None
    listed = client.get(f"{API}/batches").json()["items"]
    assert listed[0]["batch_id"] == summary["batch_id"]


def test_batch_ids_are_deterministic_with_a_seed(clock: Clock) -> None:
    ids = []
    for _ in range(2):
        client = TestClient(create_app(":memory:", seed=11, rate_limit=0, clock=clock))
        client.headers["X-Api-Key"] = "sandbox-key"
        ids.append(
            client.post(f"{API}/products", json={"items": [product_payload(1)]}).json()["batch_id"]
        )
    assert ids[0] == ids[1]


def test_batch_results_paging_and_filter(client: TestClient, clock: Clock) -> None:
    items = [product_payload(i) for i in range(10)]
    items[3]["price"] = {"list_price": "-1", "currency": "TRY"}
    batch = upsert(client, clock, items)
    bid = batch["batch_id"]
    page = client.get(f"{API}/batches/{bid}?offset=4&limit=3").json()
    assert [i["index"] for i in page["items"]] == [4, 5, 6]
    assert (page["total_items"], page["next_offset"]) == (10, 7)
    last = client.get(f"{API}/batches/{bid}?offset=9&limit=3").json()
    assert last["next_offset"] is None
    rejected = client.get(f"{API}/batches/{bid}?item_status=rejected").json()
    assert [i["index"] for i in rejected["items"]] == [3]
    assert rejected["items"][0]["reasons"][0]["code"] == "non_positive_price"
    assert client.get(f"{API}/batches/{bid}?limit=0").status_code == 400
    assert client.get(f"{API}/batches/{bid}?item_status=x").status_code == 400
    assert client.get(f"{API}/batches/b-unknown").status_code == 404


def test_upsert_is_idempotent_by_sku(client: TestClient, clock: Clock, app: Any) -> None:
    first = upsert(client, clock, [product_payload(1), product_payload(2)])
    again = upsert(client, clock, [product_payload(2), product_payload(1)])
    assert {i["sku"]: i["product_id"] for i in first["items"]} == {
        i["sku"]: i["product_id"] for i in again["items"]
    }
    assert market_from(app).store.counts()["products"] == 2


def test_upsert_updates_and_keeps_absent_optional_fields(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1)])
    changed = product_payload(1, title="Renamed", attributes={"color": "blue", "size": "L"})
    for optional in ("description", "images", "price", "stock"):
        del changed[optional]
    upsert(client, clock, [changed])
    product = client.get(f"{API}/products/SKU-0000001").json()
    assert product["title"] == "Renamed"
    assert product["attributes"] == {"color": "blue", "size": "L"}
    assert product["description"] == "Product number 1."
    assert product["images"] == ["https://cdn.example.com/products/1/0.jpg"]
    assert product["price"] == {"list_price": "120.00", "sale_price": "99.90", "currency": "TRY"}
    assert product["stock"] == 5 and product["buyable"] is True


def test_duplicates_within_a_request(client: TestClient, clock: Clock) -> None:
    batch = upsert(
        client,
        clock,
        [product_payload(1), product_payload(1, title="again"), product_payload(2, barcode=None)],
    )
    assert [i["status"] for i in batch["items"]] == ["accepted", "rejected", "rejected"]
    assert batch["items"][1]["reasons"][0]["code"] == "duplicate_sku_in_request"
    other = upsert(client, clock, [product_payload(5, barcode="8690000000001"), product_payload(6)])
    assert other["items"][0]["reasons"][0]["code"] == "duplicate_barcode"
    twins = upsert(client, clock, [product_payload(7), product_payload(8, barcode="8690000000007")])
    assert [i["status"] for i in twins["items"]] == ["accepted", "rejected"]


def test_barcode_of_a_deleted_product_is_free_again(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1)])
    client.post(f"{API}/products/delete", json={"items": [{"sku": "SKU-0000001"}]})
    batch = upsert(client, clock, [product_payload(2, barcode="8690000000001")])
    assert batch["items"][0]["status"] == "accepted"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"items": []}, 400, "invalid_request"),
        ({"items": "x"}, 400, "invalid_request"),
        ([1, 2], 400, "invalid_request"),
        ({"items": [product_payload(1)] * 1001}, 413, "too_many_items"),
    ],
)
def test_whole_request_errors(client: TestClient, body: Any, status: int, code: str) -> None:
    for method, path in [
        ("POST", "/products"),
        ("PUT", "/products/stock"),
        ("PUT", "/products/prices"),
        ("PUT", "/products/images"),
        ("POST", "/products/delete"),
    ]:
        response = client.request(method, API + path, json=body)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["code"] == code


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        f"{API}/products", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_thousand_items_are_accepted(client: TestClient, clock: Clock) -> None:
    batch = upsert(client, clock, [product_payload(i) for i in range(1000)])
    assert batch["accepted_count"] == 1000
    assert len(batch["items"]) == 1000  # one response holds the whole batch by default


def test_zero_delay_completes_at_once(clock: Clock) -> None:
    client = TestClient(create_app(":memory:", batch_delay=0, rate_limit=0, clock=clock))
    client.headers["X-Api-Key"] = "sandbox-key"
    body = client.post(f"{API}/products", json={"items": [product_payload(1)]}).json()
    assert body["status"] == "completed" and body["accepted_count"] == 1


def test_a_failing_processor_rejects_its_batch_and_moves_on(
    client: TestClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channel_app_template.sandbox.marketplace import batches, products

    def explode(store: Any, conn: Any, items: list[Any]) -> list[Any]:
        products.apply_upsert(store, conn, items)  # writes that must be rolled back
        raise RuntimeError("bug")

    monkeypatch.setitem(batches.PROCESSORS, "product_upsert", explode)
    batch = upsert(client, clock, [product_payload(1)])
    assert batch["items"][0]["reasons"][0]["code"] == "processing_failed"
    assert client.get(f"{API}/products/SKU-0000001").status_code == 404
    monkeypatch.undo()
    assert upsert(client, clock, [product_payload(1)])["accepted_count"] == 1


def test_idempotency_key_replays_the_first_batch(client: TestClient, clock: Clock) -> None:
    headers = {"Idempotency-Key": "k-1"}
    items = {"items": [product_payload(1)]}
    first = client.post(f"{API}/products", json=items, headers=headers)
    second = client.post(f"{API}/products", json=items, headers=headers)
    assert second.status_code == 202
    assert second.json()["batch_id"] == first.json()["batch_id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other = client.post(f"{API}/products", json={"items": [product_payload(2)]}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_conflict"
    images = client.put(f"{API}/products/images", json=items, headers=headers)
    assert images.status_code == 409  # same key, other kind of request


# ------------------------------------------------------------------------ sync updates
def test_stock_updates(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1), product_payload(2)])
    body = client.put(
        f"{API}/products/stock",
        json={
            "items": [
                {"sku": "SKU-0000001", "quantity": 0},
                {"sku": "SKU-0000002", "quantity": -4},
                {"sku": "SKU-9", "quantity": 1},
                {"sku": "SKU-0000001", "quantity": 7},
                {"quantity": 1},
                "junk",
            ]
        },
    ).json()
    assert (body["accepted_count"], body["rejected_count"]) == (1, 5)
    assert [i["status"] for i in body["items"]] == ["accepted"] + ["rejected"] * 5
    assert [i["reasons"][0]["code"] for i in body["items"][1:]] == [
        "negative_stock",
        "unknown_sku",
        "duplicate_sku_in_request",
        "missing_field",
        "invalid_item",
    ]
    assert body["items"][0]["product_id"] == "MP00000001"
    product = client.get(f"{API}/products/SKU-0000001").json()
    assert product["stock"] == 0 and product["buyable"] is False


def test_price_updates(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1)])
    body = client.put(
        f"{API}/products/prices",
        json={
            "items": [
                {"sku": "SKU-0000001", "list_price": "200", "sale_price": 150.5, "currency": "eur"},
                {"sku": "SKU-0000002", "list_price": "1", "currency": "TRY"},
                {"sku": "SKU-0000003", "list_price": "1", "sale_price": "2", "currency": "TRY"},
            ]
        },
    ).json()
    assert [i["status"] for i in body["items"]] == ["accepted", "rejected", "rejected"]
    assert body["items"][1]["reasons"][0]["code"] == "unknown_sku"
    assert body["items"][2]["reasons"][0]["code"] == "sale_price_above_list_price"
    price = client.get(f"{API}/products/SKU-0000001").json()["price"]
    assert price == {"list_price": "200.00", "sale_price": "150.50", "currency": "EUR"}


def test_image_updates_are_async(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1)])
    urls = ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    response = client.put(
        f"{API}/products/images",
        json={
            "items": [
                {"sku": "SKU-0000001", "images": urls},
                {"sku": "SKU-0000002", "images": urls},
                {"sku": "SKU-0000003", "images": ["nope"]},
            ]
        },
    )
    assert response.status_code == 202
    assert response.json()["kind"] == "image_update"
    assert client.get(f"{API}/products/SKU-0000001").json()["images"] != urls
    clock.now += 2
    batch = client.get(f"{API}/batches/{response.json()['batch_id']}").json()
    assert [i["status"] for i in batch["items"]] == ["accepted", "rejected", "rejected"]
    assert [i["reasons"][0]["code"] for i in batch["items"][1:]] == [
        "unknown_sku",
        "invalid_image_url",
    ]
    assert client.get(f"{API}/products/SKU-0000001").json()["images"] == urls


def test_delete_is_idempotent(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1)])
    payload = {"items": [{"sku": "SKU-0000001"}, {"sku": "SKU-404"}]}
    for _ in range(2):
        body = client.post(f"{API}/products/delete", json=payload).json()
        assert [i["status"] for i in body["items"]] == ["accepted", "rejected"]
        assert body["items"][0]["product_id"] == "MP00000001"
        assert body["items"][1]["reasons"][0]["code"] == "unknown_sku"
    product = client.get(f"{API}/products/SKU-0000001").json()
    assert product["status"] == "deleted" and product["buyable"] is False
    stock = client.put(
        f"{API}/products/stock", json={"items": [{"sku": "SKU-0000001", "quantity": 1}]}
    ).json()
    assert stock["items"][0]["reasons"][0]["code"] == "unknown_sku"
    assert client.get(f"{API}/products").json()["count"] == 0
    assert client.get(f"{API}/products?status=deleted").json()["count"] == 1
    # re-creating a deleted SKU brings the same product back
    batch = upsert(client, clock, [product_payload(1)])
    assert batch["items"][0]["product_id"] == "MP00000001"
    assert client.get(f"{API}/products/SKU-0000001").json()["status"] == "active"


def test_delete_by_product_id(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(1), product_payload(2)])
    payload = {
        "items": [
            {"product_id": "MP00000002"},
            {"product_id": "MP00000099"},
            {"product_id": "junk"},
            {"product_id": 5},
            {"product_id": "MP00000002"},
            {"sku": "SKU-0000001"},
        ]
    }
    for _ in range(2):
        items = client.post(f"{API}/products/delete", json=payload).json()["items"]
        assert [(i["status"], i["sku"], i["product_id"]) for i in items] == [
            ("accepted", "SKU-0000002", "MP00000002"),
            ("rejected", None, "MP00000099"),
            ("rejected", None, "junk"),
            ("rejected", None, None),
            ("rejected", None, None),
            ("accepted", "SKU-0000001", "MP00000001"),
        ]
        assert [i["reasons"][0]["code"] for i in items[1:5]] == [
            "unknown_product",
            "unknown_product",
            "invalid_type",
            "duplicate_sku_in_request",
        ]
    assert client.get("/_sandbox/counts/").json()["products"] == 0


def test_product_listing(client: TestClient, clock: Clock) -> None:
    upsert(client, clock, [product_payload(i) for i in range(1, 6)])
    page = client.get(f"{API}/products?limit=2&offset=2").json()
    assert page["count"] == 5 and page["next_offset"] == 4
    assert [p["sku"] for p in page["items"]] == ["SKU-0000003", "SKU-0000004"]
    some = client.get(f"{API}/products?sku=SKU-0000005&sku=SKU-0000001&sku=x").json()
    assert [p["sku"] for p in some["items"]] == ["SKU-0000001", "SKU-0000005"]
    assert client.get(f"{API}/products?status=gone").status_code == 400
    assert client.get(f"{API}/products?limit=1001").status_code == 400


# ------------------------------------------------------------------------ rate limit
def test_rate_limit_answers_429_with_retry_after(client: TestClient, clock: Clock) -> None:
    assert (
        client.post("/_sandbox/settings/", json={"rate_limit": 2, "rate_burst": 2}).json()[
            "rate_limit"
        ]
        == 2
    )
    first = client.get(f"{API}/categories")
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert client.get(f"{API}/categories").headers["x-ratelimit-remaining"] == "0"
    refused = client.get(f"{API}/categories")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"]["retry_after_seconds"] == 0.5
    assert client.get("/_sandbox/counts/").status_code == 200  # never limited
    clock.now += 0.5
    assert client.get(f"{API}/categories").status_code == 200
    client.post("/_sandbox/settings/", json={"rate_limit": 0})
    assert all(client.get(f"{API}/categories").status_code == 200 for _ in range(20))
    assert "x-ratelimit-remaining" not in client.get(f"{API}/categories").headers


# ------------------------------------------------------------------------ /_sandbox/
def test_sandbox_inspection_and_controls(client: TestClient, clock: Clock, app: Any) -> None:
    response = client.post(f"{API}/products", json={"items": [product_payload(1)]})
    bid = response.json()["batch_id"]
    counts = client.get("/_sandbox/counts/", headers={"X-Api-Key": ""}).json()
    assert counts["batches_processing"] == 1 and counts["products"] == 0
    inspected = client.get(f"/_sandbox/batches/{bid}/").json()
    assert inspected["payload"][0]["sku"] == "SKU-0000001"
    assert client.post("/_sandbox/batches/complete/").json() == {"completed": 1}
    product = client.get("/_sandbox/products/SKU-0000001/").json()
    assert product["stock"] == 5 and product["price"]["currency"] == "TRY"
    assert client.get("/_sandbox/products/nope/").status_code == 404
    assert client.get("/_sandbox/batches/?status=completed").json()["items"][0]["batch_id"] == bid
    settings = client.post("/_sandbox/settings/", json={"batch_delay_seconds": 0.5}).json()
    assert settings["batch_delay_seconds"] == 0.5
    assert client.post("/_sandbox/settings/", json={"batch_delay_seconds": -1}).status_code == 400
    client.post("/_sandbox/faults/", json={"latency_ms": 5, "rules": [{"pattern": "x"}]})
    assert len(client.get("/_sandbox/faults/").json()["rules"]) == 1
    after = client.post("/_sandbox/reset/").json()
    assert after["products"] == 0 and after["batches"] == 0 and after["categories"] == 12
    assert client.get("/_sandbox/settings/").json()["batch_delay_seconds"] == 2.0
    assert client.get("/_sandbox/faults/").json()["rules"] == []
    # ids start again after a reset
    again = upsert(client, clock, [product_payload(9)])
    assert again["items"][0]["product_id"] == "MP00000001"
    assert market_from(app).store.counts()["products"] == 1


def test_fault_errors_use_the_marketplace_shape(client: TestClient) -> None:
    rule = client.post(
        "/_sandbox/faults/rules/", json={"pattern": "/categories", "action": "error", "status": 429}
    ).json()
    response = client.get(f"{API}/categories")
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json() == {"error": {"code": "rate_limited", "message": "Too many requests."}}
    assert client.delete(f"/_sandbox/faults/rules/{rule['id']}/").status_code == 204
    assert client.delete(f"/_sandbox/faults/rules/{rule['id']}/").status_code == 404
    assert client.get(f"{API}/categories").status_code == 200
