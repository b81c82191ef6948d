"""One bad stored row is one bad item in the Omnitron simulator: every listing still answers
valid JSON with every other row unchanged; bad rows are planted through ``/_sandbox/raw/``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.testclient import TestClient

from channel_app_template.sandbox.omnitron.app import create_app, sim_from
from channel_app_template.sandbox.omnitron.resources import SPECS
from channel_app_template.sandbox.omnitron.seed import seed_catalog
from channel_app_template.sandbox.omnitron.store import Store, columns

# table -> a listing that shows its rows
LISTINGS = {
    "products": "/api/v1/products/",
    "product_prices": "/api/v1/channel/1/product_prices/",
    "product_stocks": "/api/v1/channel/1/product_stocks/",
    "product_images": "/api/v1/channel/1/product_images/",
    "category_nodes": "/api/v1/channel/1/category_nodes/",
    "attributes": "/api/v1/channel/1/attributes/",
    "attribute_values": "/api/v1/channel/1/attribute_values/",
    "cargos": "/api/v1/channel/1/cargos/",
    "cities": "/api/v1/channel/1/cities/",
    "content_types": "/api/v1/content_types/",
    "channels": "/api/v1/channels/",
    "product_categories": "/api/v1/channel/1/product_categories/detailed/",
    "attribute_configs": "/api/v1/channel/1/attribute_configs/detailed/",
    "integration_actions": "/api/v1/channel/1/integration_actions/",
    "batch_requests": "/api/v1/channel/1/batch_requests/",
    "error_reports": "/api/v1/channel/1/error_reports/",
    "customers": "/api/v1/channel/1/customers/",
    "addresses": "/api/v1/channel/1/addresses/",
    "orders": "/api/v1/channel/1/orders/",
    "order_items": "/api/v1/channel/1/order_items/",
}
JUNK = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["{not json", "[1,", "NaN", "", "2099-01-01T00:00:00.000000Z", "yesterday"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=20),
    st.none(),
)


def strict_json(raw: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=refuse)


def make_client(path: str = ":memory:", products: int = 6) -> tuple[Any, TestClient]:
    app = create_app(path)
    seed_catalog(sim_from(app).store, products)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app)
    token = client.post(
        "/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"}
    ).json()["key"]
    client.headers["Authorization"] = f"Token {token}"
    return app, client


def rows_of(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = client.get(f"{path}?limit=1000")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = strict_json(response.content)["results"]
    return rows


def key(row: dict[str, Any]) -> Any:
    return row.get("pk", row.get("id"))


def with_sync_and_orders(client: TestClient) -> None:
    """Rows for the tables no seed fills: actions, a batch, a report, an order."""

    def ok(method: str, path: str, body: Any) -> Any:
        response = client.request(method, f"/api/v1/channel/1/{path}", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    for pk in (1, 2):
        ok(
            "POST",
            "integration_actions/",
            {
                "content_type": "product",
                "object_id": pk,
                "remote_id": f"R{pk}",
                "version_date": "2024-01-01",
            },
        )
    ok("POST", "batch_requests/", {})
    ok("POST", "error_reports/", {"error_code": "x", "error_desc": "y"})
    customer = ok("POST", "customers/", {"email": "c@example.com"})["pk"]
    address = ok(
        "POST",
        "addresses/",
        {"customer": customer, "country": 1, "city": 1, "line": "x", "first_name": "C"},
    )["pk"]
    ok(
        "POST",
        "create_orders/",
        {
            "order": {
                "number": "N-1",
                "customer": customer,
                "amount": "10",
                "shipping_address": address,
                "billing_address": address,
            },
            "order_item": [{"product": 1, "price": "10"}, {"product": 2, "price": "5"}],
        },
    )


APP, CLIENT = make_client()
with_sync_and_orders(CLIENT)
BEFORE = {table: rows_of(CLIENT, path) for table, path in LISTINGS.items()}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_listing_survives_one_bad_stored_value(data: st.DataObject) -> None:
    table = data.draw(st.sampled_from(sorted(LISTINGS)))
    rows = BEFORE[table]
    target = data.draw(st.sampled_from([key(r) for r in rows]))
    column = data.draw(st.sampled_from([c for c in columns(SPECS[table]) if c != "id"]))
    value = data.draw(JUNK)
    store: Store = sim_from(APP).store
    original = store.conn.execute(
        f'SELECT "{column}" FROM {table} WHERE id = ?',  # noqa: S608
        (target,),
    ).fetchone()[0]
    store.conn.execute(f'UPDATE {table} SET "{column}" = ? WHERE id = ?', (value, target))  # noqa: S608
    store.generation += 1  # what a committed write does: drop cached counts
    try:
        after = rows_of(CLIENT, LISTINGS[table])
        others_after = [r for r in after if key(r) != target]
        # every other row is served exactly as before, in the same order
        assert others_after == [r for r in BEFORE[table] if key(r) != target]
    finally:
        store.conn.execute(f'UPDATE {table} SET "{column}" = ? WHERE id = ?', (original, target))  # noqa: S608
        store.generation += 1


def plant(client: TestClient, table: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_sandbox/raw/{table}/", json=body)
    assert response.status_code == 201, response.text
    planted: dict[str, Any] = response.json()
    return planted


def test_planted_products_of_every_bad_shape_are_listed_beside_good_ones() -> None:
    _, client = make_client(products=4)
    bad = [
        plant(client, "products", values={"sku": "B-1", "name": "n", "attributes": None}),
        plant(client, "products", values={"sku": "B-2", "name": "n", "modified_date": "later"}),
        plant(
            client,
            "products",
            values={"sku": "B-3", "name": "n", "modified_date": "2099-01-01T00:00:00.000000Z"},
        ),
        plant(client, "products", values={"sku": "B-4", "name": "n"}, omit=["pk"]),
        plant(
            client,
            "products",
            values={"sku": "B-5", "name": ["n"], "is_active": "yes", "product_type": "simple"},
        ),
    ]
    served = {row.get("sku"): row for row in rows_of(client, "/api/v1/channel/1/products/inserts/")}
    assert len(served) == 9  # 4 good + 5 bad: nothing hidden
    assert served["B-1"]["attributes"] is None
    assert served["B-2"]["modified_date"] == "later"
    assert served["B-3"]["modified_date"] == "2099-01-01T00:00:00.000000Z"
    assert "pk" not in served["B-4"] and served["B-4"]["sku"] == "B-4"
    assert served["B-5"]["name"] == '["n"]' and served["B-5"]["is_active"] == "yes"
    assert served["B-5"]["product_type"] == "simple"  # a string where Omnitron has a number
    assert bad[3]["omit"] == ["pk"] and "pk" not in bad[3]["served"]
    assert bad[0]["stored"]["attributes"] is None


def test_raw_patch_makes_an_existing_row_bad_and_moves_its_date() -> None:
    _, client = make_client(products=3)
    before = client.get("/api/v1/products/2/").json()
    response = client.patch("/_sandbox/raw/products/2/", json={"values": {"attributes": "{oops"}})
    assert response.status_code == 200
    view = response.json()
    assert view["stored"]["attributes"] == '"{oops"'  # JSON text of the string given
    assert view["served"]["attributes"] == "{oops"
    assert view["served"]["modified_date"] > before["modified_date"]
    untouched = client.patch(
        "/_sandbox/raw/products/3/", json={"values": {"name": "x"}, "touch": False}
    ).json()
    assert untouched["served"]["modified_date"] == "2024-01-01T00:00:00.000000Z"
    cleared = client.patch("/_sandbox/raw/products/3/", json={"omit": ["sku"]}).json()
    assert "sku" not in cleared["served"]
    assert "sku" in client.patch("/_sandbox/raw/products/3/", json={"omit": []}).json()["served"]


def test_raw_routes_refuse_what_sqlite_cannot_hold() -> None:
    _, client = make_client(products=1)
    cases = [
        ("/_sandbox/raw/nope/", {"values": {}}, 404),
        ("/_sandbox/raw/products/", {"values": {"colour": 1}}, 400),
        ("/_sandbox/raw/products/", {"values": {"stock": 2**70}}, 400),
        ("/_sandbox/raw/products/", {"vals": {}}, 400),
        ("/_sandbox/raw/products/", {"values": {}, "omit": "pk"}, 400),
    ]
    for path, body, status in cases:
        assert client.post(path, json=body).status_code == status, (path, body)
    assert client.patch("/_sandbox/raw/products/999/", json={"values": {}}).status_code == 404
    big = {"values": {"name": "x" * (3 * 1024 * 1024)}}
    assert client.post("/_sandbox/raw/products/", json=big).status_code == 413


def test_a_planted_future_or_garbage_date_never_moves_the_clock(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    _, client = make_client(state, products=2)
    plant(
        client,
        "products",
        values={"sku": "F", "name": "f", "modified_date": "2099-01-01T00:00:00.000000Z"},
    )
    plant(client, "products", values={"sku": "G", "name": "g", "modified_date": "zzzz"})
    _, restarted = make_client(state, products=0)  # a restart on the same state file
    made = restarted.post("/api/v1/products/", json={"name": "new", "sku": "NEW"})
    assert made.status_code == 201
    assert "2024" < made.json()["modified_date"] < "2099"
    assert restarted.patch("/api/v1/products/1/", json={"name": "again"}).status_code == 200


def test_a_product_with_unreadable_attributes_cannot_be_mapped_but_does_not_crash() -> None:
    _, client = make_client(products=2)
    client.patch("/_sandbox/raw/products/1/", json={"values": {"attributes": "not a dict"}})
    response = client.get("/api/v1/channel/1/mapped_products/1/")
    assert response.status_code == 406 and "error" in response.json()
    assert client.get("/api/v1/channel/1/mapped_products/2/").status_code == 200
