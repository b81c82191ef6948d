"""In-process contract of the marketplace's order API: orders, acknowledgements, seller
updates, events, claims and the ``/_sandbox/orders`` controls (no sockets)."""

from __future__ import annotations

import json
import sqlite3
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings, strategies as st
from starlette.testclient import TestClient

from channel_app_template.sandbox.marketplace.app import create_app, market_from
from tests.support.marketplace import product_payload

API = "/api/v1"
SANDBOX = "/_sandbox/orders"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_client(clock: Clock, products: int = 20) -> TestClient:
    app = create_app(":memory:", seed=3, batch_delay=0, rate_limit=0, clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app)
    client.headers["X-Api-Key"] = "sandbox-key"
    if products:
        items = [product_payload(i) for i in range(1, products + 1)]
        assert client.post(f"{API}/products", json={"items": items}).status_code == 202
    return client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    yield make_client(clock)


def generate(client: TestClient, count: int = 3, **body: Any) -> dict[str, Any]:
    response = client.post(f"{SANDBOX}/generate/", json={"count": count, **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/orders", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def one_order(client: TestClient, items_per_order: int = 1, max_quantity: int = 3) -> Any:
    """A fresh order whose first line has exactly ``max_quantity`` units (seeded)."""
    for seed in range(50):
        made = generate(
            client, 1, seed=seed, items_per_order=items_per_order, max_quantity=max_quantity
        )
        order = client.get(f"{API}/orders/{made['first_order_id']}").json()
        if order["lines"][0]["quantity"] == max_quantity:
            return order
    raise AssertionError("no seed gave the wanted quantity")


def put_status(client: TestClient, *items: Any) -> list[dict[str, Any]]:
    response = client.put(f"{API}/orders/status", json={"items": list(items)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["items"]
    return results


# ------------------------------------------------------------------------ generation
def test_generated_orders_use_live_products_and_omnitron_resolvable_data(
    client: TestClient,
) -> None:
    made = generate(client, 20, seed=5, items_per_order=[1, 3])
    assert made["created"] == 20
    assert made["first_order_id"] == "MO00000001" and made["last_order_id"] == "MO00000020"
    orders = listing(client, limit=100)["items"]
    assert len(orders) == 20
    skus = {f"SKU-{i:07d}" for i in range(1, 21)}
    for order in orders:
        assert order["status"] == "created" and order["acknowledged"] is False
        assert order["number"].startswith("MKT-")
        assert order["cargo_code"] in ("yurtici", "aras", "mng")
        address = order["shipping_address"]
        assert address["country_code"] == "TR"
        assert address["city"] in ("Istanbul", "Ankara", "Izmir")
        assert 1 <= len(order["lines"]) <= 3
        total = sum(float(line["line_total"]) for line in order["lines"])
        assert float(order["totals"]["subtotal"]) == pytest.approx(total)
        for line in order["lines"]:
            assert line["sku"] in skus
            assert line["product_id"] == f"MP{int(line['sku'][4:]):08d}"
            assert line["line_id"].startswith("ML") and line["currency"] == "TRY"


def test_generation_is_deterministic(clock: Clock) -> None:
    def payloads() -> list[Any]:
        client = make_client(clock)
        generate(client, 30, seed=11, bad={"malformed": 0.1, "unknown_cargo": 0.1})
        items: list[Any] = listing(client, limit=100)["items"]
        return items

    assert payloads() == payloads()


def test_bad_fractions_give_exact_counts_of_each_kind(client: TestClient) -> None:
    bad = {
        "unknown_product": 0.1,
        "unknown_cargo": 0.05,
        "unresolvable_address": 0.05,
        "malformed": 0.1,
    }
    made = generate(client, 100, seed=1, bad=bad)
    assert {k: len(v) for k, v in made["bad"].items()} == {
        "unknown_product": 10,
        "unknown_cargo": 5,
        "unresolvable_address": 5,
        "malformed": 10,
    }
    by_number = {o["number"]: o for o in listing(client, limit=1000)["items"]}
    live = {f"MP{i:08d}" for i in range(1, 21)}
    for number in made["bad"]["unknown_product"]:
        assert by_number[number]["lines"][0]["product_id"] not in live
    for number in made["bad"]["unknown_cargo"]:
        assert by_number[number]["cargo_code"] == "surat"
    for number in made["bad"]["unresolvable_address"]:
        assert by_number[number]["shipping_address"]["city"] == "Atlantis"
    variants = set()
    for order in by_number.values():
        if "_malformed" in order:
            variants.add(order["_malformed"])
    assert len(variants) >= 5  # missing customer, no lines, bad quantity/price/date, garbage
    counts = client.get(f"{SANDBOX}/counts/").json()
    assert counts["by_kind"] == {
        "good": 70,
        "unknown_product": 10,
        "unknown_cargo": 5,
        "unresolvable_address": 5,
        "malformed": 10,
    }


def test_generate_refuses_without_products_and_bad_bodies(clock: Clock) -> None:
    empty = make_client(clock, products=0)
    response = empty.post(f"{SANDBOX}/generate/", json={"count": 1})
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_products"
    for body in (
        {"count": 0},
        {"count": 1, "items_per_order": [3, 1]},
        {"count": 1, "bad": {"nonsense": 0.1}},
        {"count": 1, "bad": {"malformed": 0.7, "unknown_cargo": 0.7}},
        {"count": 1, "skus": "SKU-1"},
    ):
        assert empty.post(f"{SANDBOX}/generate/", json=body).status_code == 400, body


def test_generation_restricted_to_skus(client: TestClient) -> None:
    generate(client, 10, skus=["SKU-0000003"], items_per_order=1)
    orders = listing(client, limit=100)["items"]
    assert {o["lines"][0]["sku"] for o in orders} == {"SKU-0000003"}


def test_two_thousand_orders_generate_fast(client: TestClient) -> None:
    started = time.perf_counter()
    generate(client, 2000, seed=2, bad={"malformed": 0.01})
    assert time.perf_counter() - started < 2.5
    assert client.get(f"{SANDBOX}/counts/").json()["orders"] == 2000


# ------------------------------------------------------------------------ listing and acks
def test_order_routes_need_the_key(client: TestClient) -> None:
    for method, path in [
        ("GET", "/orders"),
        ("GET", "/orders/MO00000001"),
        ("POST", "/orders/acknowledge"),
        ("PUT", "/orders/status"),
        ("GET", "/order-events"),
        ("POST", "/order-events/acknowledge"),
        ("GET", "/claims"),
        ("POST", "/claims/acknowledge"),
        ("GET", "/claims/CL00000001"),
        ("PUT", "/claims/CL00000001"),
    ]:
        response = client.request(method, API + path, headers={"X-Api-Key": "nope"})
        assert response.status_code == 401, (method, path)


def test_cursor_paging_survives_acknowledgements(client: TestClient) -> None:
    generate(client, 25)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        page = listing(client, **params)
        ids = [o["id"] for o in page["items"]]
        seen += ids
        # acknowledging what was read must not make the next page skip anything
        client.post(f"{API}/orders/acknowledge", json={"items": [{"order_id": i} for i in ids]})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"MO{i:08d}" for i in range(1, 26)]  # oldest first, all of them once
    assert listing(client)["items"] == []
    assert len(listing(client, acknowledged="true", limit=100)["items"]) == 25
    assert len(listing(client, acknowledged="any", limit=100)["items"]) == 25


def test_acknowledge_is_idempotent_and_reports_unknown_ids(client: TestClient) -> None:
    generate(client, 2)
    body = {"items": [{"order_id": "MO00000001"}, {"order_id": "MO00000099"}, {"order_id": 5}]}
    first = client.post(f"{API}/orders/acknowledge", json=body).json()
    assert first["accepted_count"] == 1 and first["rejected_count"] == 2
    assert [r["status"] for r in first["items"]] == ["accepted", "rejected", "rejected"]
    assert first["items"][1]["reasons"][0]["code"] == "unknown_order"
    assert first["items"][2]["reasons"][0]["code"] == "invalid_id"
    again = client.post(f"{API}/orders/acknowledge", json=body).json()
    assert again["accepted_count"] == 1
    assert [o["id"] for o in listing(client)["items"]] == ["MO00000002"]
    assert client.get(f"{API}/orders/MO00000001").json()["acknowledged"] is True
    counts = client.get(f"{SANDBOX}/counts/").json()
    assert (counts["acknowledged"], counts["unacknowledged"]) == (1, 1)


def test_get_order_filters_and_bad_queries(client: TestClient) -> None:
    generate(client, 3)
    assert client.get(f"{API}/orders/MO00000002").json()["number"] == "MKT-00000002"
    assert client.get(f"{API}/orders/MO00000099").status_code == 404
    assert client.get(f"{API}/orders/nonsense").status_code == 404
    found = listing(client, number=["MKT-00000003", "MKT-00000001"])["items"]
    assert [o["id"] for o in found] == ["MO00000001", "MO00000003"]
    assert client.get(f"{API}/orders", params={"cursor": "x"}).status_code == 400
    assert client.get(f"{API}/orders", params={"acknowledged": "maybe"}).status_code == 400
    assert client.get(f"{API}/orders", params={"status": "lost"}).status_code == 400
    assert client.get(f"{API}/orders", params={"limit": 0}).status_code == 400


def test_reset_wipes_orders(client: TestClient) -> None:
    generate(client, 3)
    client.post("/_sandbox/reset/", json={})
    assert client.get(f"{SANDBOX}/counts/").json()["orders"] == 0
    assert client.get("/_sandbox/counts/").json()["orders"] == 0


# ------------------------------------------------------------------------ seller updates
def test_status_lifecycle_is_forward_only_and_idempotent(client: TestClient) -> None:
    order = one_order(client, items_per_order=2)
    oid = order["id"]
    assert put_status(client, {"order_id": oid, "status": "picking"})[0]["status"] == "accepted"
    shipped = put_status(client, {"order_id": oid, "status": "shipped"})[0]
    assert shipped["status"] == "rejected"
    assert shipped["reasons"][0]["code"] == "missing_field"  # shipping needs tracking
    update = {
        "order_id": oid,
        "status": "shipped",
        "tracking_number": "TRK1",
        "invoice_number": "INV1",
        "cargo_code": "aras",
    }
    assert put_status(client, update)[0]["status"] == "accepted"
    assert put_status(client, update)[0]["status"] == "accepted"  # the same again: no-op
    back = put_status(client, {"order_id": oid, "status": "picking"})[0]
    assert back["status"] == "accepted" and "already shipped" in back["notes"][0]
    cancel = put_status(client, {"order_id": oid, "status": "cancelled"})[0]
    assert cancel["reasons"][0]["code"] == "invalid_transition"
    stored = client.get(f"{API}/orders/{oid}").json()
    assert stored["status"] == "shipped" and stored["tracking_number"] == "TRK1"
    assert stored["cargo_code"] == "aras" and stored["invoice_number"] == "INV1"
    assert {line["status"] for line in stored["lines"]} == {"shipped"}
    assert {line["tracking_number"] for line in stored["lines"]} == {"TRK1"}


def test_partial_cancellation_by_the_seller_is_absolute(client: TestClient) -> None:
    order = one_order(client, items_per_order=1, max_quantity=3)
    oid, lid = order["id"], order["lines"][0]["line_id"]
    update = {"order_id": oid, "lines": [{"line_id": lid, "cancelled_quantity": 1}]}
    assert put_status(client, update)[0]["status"] == "accepted"
    assert put_status(client, update)[0]["status"] == "accepted"  # absolute: still 1
    line = client.get(f"{API}/orders/{oid}").json()["lines"][0]
    assert (line["cancelled_quantity"], line["status"]) == (1, "created")
    lower = {"order_id": oid, "lines": [{"line_id": lid, "cancelled_quantity": 0}]}
    assert "kept" in put_status(client, lower)[0]["notes"][0]
    too_many = {"order_id": oid, "lines": [{"line_id": lid, "cancelled_quantity": 4}]}
    assert put_status(client, too_many)[0]["reasons"][0]["code"] == "invalid_quantity"
    every = {"order_id": oid, "lines": [{"line_id": lid, "cancelled_quantity": 3}]}
    assert put_status(client, every)[0]["status"] == "accepted"
    stored = client.get(f"{API}/orders/{oid}").json()
    assert stored["status"] == "cancelled" and stored["lines"][0]["status"] == "cancelled"
    after = put_status(client, {"order_id": oid, "lines": [{"line_id": lid, "status": "picking"}]})
    assert after[0]["reasons"][0]["code"] == "invalid_transition"  # cancelled is terminal


def test_status_update_items_are_atomic_and_checked(client: TestClient) -> None:
    order = one_order(client, items_per_order=2)
    oid = order["id"]
    first, second = (line["line_id"] for line in order["lines"])
    results = put_status(
        client,
        {"order_id": "MO00009999", "status": "picking"},
        {"order_id": oid, "cargo_code": "ufo"},
        {"order_id": oid, "status": "lost"},
        {"order_id": oid, "lines": [{"line_id": "ML00009999", "status": "picking"}]},
        {
            "order_id": oid,
            "lines": [
                {"line_id": first, "status": "picking"},
                {"line_id": second, "status": "shipped"},  # no tracking: the whole item fails
            ],
        },
        {"order_id": oid, "lines": [{"line_id": first, "status": "picking"}]},
        "not an object",
    )
    codes = [r["reasons"][0]["code"] if r["reasons"] else "ok" for r in results]
    assert codes == [
        "unknown_order",
        "unknown_cargo",
        "invalid_value",
        "unknown_line",
        "missing_field",
        "ok",
        "invalid_item",
    ]
    stored = client.get(f"{API}/orders/{oid}").json()
    assert [line["status"] for line in stored["lines"]] == ["picking", "created"]
    assert stored["status"] == "created"  # the least advanced line


def test_malformed_orders_cannot_be_updated(client: TestClient) -> None:
    made = generate(client, 10, bad={"malformed": 1.0})
    oid = made["first_order_id"]
    result = put_status(client, {"order_id": oid, "status": "picking"})[0]
    assert result["reasons"][0]["code"] == "order_not_editable"
    detail = client.get(f"{SANDBOX}/{oid}/").json()
    assert detail["raw"]["lines"] and "_malformed" in detail["served"]
    assert client.post(f"{SANDBOX}/{oid}/cancel/", json={}).status_code == 409


# ------------------------------------------------------------------------ events
def events(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/order-events", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_quantity_aware_cancellation_events(client: TestClient) -> None:
    order = one_order(client, items_per_order=1, max_quantity=3)
    oid, lid = order["id"], order["lines"][0]["line_id"]
    url = f"{SANDBOX}/{oid}/cancel/"
    one = client.post(url, json={"lines": [{"line_id": lid, "quantity": 1}]}).json()
    assert one["type"] == "cancellation" and one["order_id"] == oid
    assert one["lines"] == [
        {
            "line_id": lid,
            "quantity": 1,
            "cancelled_quantity": 1,
            "line_quantity": 3,
            "reason_code": "out_of_stock",
        }
    ]
    body = {"lines": [{"line_id": lid, "quantity": 1, "reason_code": "changed_mind"}]}
    two = client.post(url, json=body).json()
    assert (two["lines"][0]["quantity"], two["lines"][0]["cancelled_quantity"]) == (1, 2)
    assert client.post(url, json={"lines": [{"line_id": lid, "quantity": 2}]}).status_code == 409
    bad_reason = {"lines": [{"line_id": lid, "quantity": 1, "reason_code": "moon"}]}
    assert client.post(url, json=bad_reason).status_code == 400
    stored = client.get(f"{API}/orders/{oid}").json()
    assert stored["lines"][0]["cancelled_quantity"] == 2 and stored["status"] == "created"
    rest = client.post(url, json={}).json()  # everything left
    assert rest["lines"][0]["quantity"] == 1 and rest["lines"][0]["cancelled_quantity"] == 3
    assert client.get(f"{API}/orders/{oid}").json()["status"] == "cancelled"
    listed = events(client, type="cancellation")
    assert [e["id"] for e in listed] == [one["id"], two["id"], rest["id"]]
    assert events(client, type="line_update") == []


def test_line_update_events_and_acknowledgement(client: TestClient) -> None:
    order = one_order(client, items_per_order=2)
    oid = order["id"]
    made = client.post(
        f"{SANDBOX}/{oid}/line-update/",
        json={"status": "shipped", "tracking_number": "MTRK", "cargo_code": "mng"},
    ).json()["items"]
    assert len(made) == 2 and {e["status"] for e in made} == {"shipped"}
    assert made[0]["tracking_number"] == "MTRK" and made[0]["cargo_code"] == "mng"
    lid = order["lines"][0]["line_id"]
    delivered = client.post(
        f"{SANDBOX}/{oid}/line-update/", json={"line_id": lid, "status": "delivered"}
    ).json()["items"]
    assert [e["line_id"] for e in delivered] == [lid]
    stored = client.get(f"{API}/orders/{oid}").json()
    assert stored["status"] == "shipped" and stored["lines"][0]["status"] == "delivered"
    ids = [e["id"] for e in events(client, type="line_update")]
    assert len(ids) == 3
    ack = client.post(
        f"{API}/order-events/acknowledge",
        json={"items": [{"event_id": ids[0]}, {"event_id": "EV00009999"}]},
    ).json()
    assert [r["status"] for r in ack["items"]] == ["accepted", "rejected"]
    assert ack["items"][1]["reasons"][0]["code"] == "unknown_event"
    again = client.post(f"{API}/order-events/acknowledge", json={"items": [{"event_id": ids[0]}]})
    assert again.json()["accepted_count"] == 1
    assert [e["id"] for e in events(client)] == ids[1:]
    assert len(events(client, acknowledged="any")) == 3
    counts = client.get(f"{SANDBOX}/counts/").json()["events"]
    assert counts == {"line_update": {"total": 3, "acknowledged": 1}}
    assert client.post(f"{SANDBOX}/{oid}/line-update/", json={}).status_code == 400
    assert client.get(f"{API}/order-events", params={"type": "x"}).status_code == 400


def test_event_paging(client: TestClient) -> None:
    order = one_order(client, items_per_order=1)
    for n in range(7):
        client.post(f"{SANDBOX}/{order['id']}/line-update/", json={"invoice_number": f"I{n}"})
    first = client.get(f"{API}/order-events", params={"limit": 5}).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    rest = client.get(
        f"{API}/order-events", params={"limit": 5, "cursor": first["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None


# ------------------------------------------------------------------------ claims
def test_claims_decisions(client: TestClient) -> None:
    order = one_order(client, items_per_order=2, max_quantity=3)
    oid = order["id"]
    first, second = order["lines"]
    url = f"{SANDBOX}/{oid}/claims/"
    early_return = client.post(url, json={"line_id": first["line_id"], "type": "return"})
    assert early_return.status_code == 409  # not shipped yet
    cancel = client.post(
        url, json={"line_id": first["line_id"], "type": "cancel", "quantity": first["quantity"]}
    ).json()
    assert cancel["status"] == "waiting" and cancel["reason_code"] == "changed_mind"
    over = client.post(url, json={"line_id": first["line_id"], "type": "cancel"})
    assert over.status_code == 409  # every unit is already claimed
    approve = client.put(f"{API}/claims/{cancel['id']}", json={"decision": "approve"})
    assert approve.status_code == 200 and approve.json()["status"] == "approved"
    again = client.put(f"{API}/claims/{cancel['id']}", json={"decision": "approve"})
    assert again.status_code == 200  # idempotent
    other = client.put(f"{API}/claims/{cancel['id']}", json={"decision": "reject"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "claim_already_decided"
    line = client.get(f"{API}/orders/{oid}").json()["lines"][0]
    assert line["status"] == "cancelled" and line["cancelled_quantity"] == first["quantity"]

    client.post(
        f"{SANDBOX}/{oid}/line-update/",
        json={"line_id": second["line_id"], "status": "delivered", "tracking_number": "T"},
    )
    ret = client.post(
        url,
        json={
            "line_id": second["line_id"],
            "type": "return",
            "quantity": 1,
            "reason_code": "size_problem",
            "description": "too small",
        },
    ).json()
    assert ret["type"] == "return" and ret["description"] == "too small"
    rejected = client.put(
        f"{API}/claims/{ret['id']}", json={"decision": "reject", "note": "used item"}
    ).json()
    assert rejected["status"] == "rejected" and rejected["decision_note"] == "used item"
    assert client.put(f"{API}/claims/{ret['id']}", json={"decision": "maybe"}).status_code == 400
    assert client.put(f"{API}/claims/CL00009999", json={"decision": "approve"}).status_code == 404
    listed = client.get(f"{API}/claims").json()["items"]
    assert [c["id"] for c in listed] == [cancel["id"], ret["id"]]
    ack = client.post(f"{API}/claims/acknowledge", json={"items": [{"claim_id": cancel["id"]}]})
    assert ack.json()["accepted_count"] == 1
    assert [c["id"] for c in client.get(f"{API}/claims").json()["items"]] == [ret["id"]]
    assert client.get(f"{API}/claims/{ret['id']}").json()["status"] == "rejected"
    waiting = client.get(f"{API}/claims", params={"status": "waiting", "acknowledged": "any"})
    assert waiting.json()["items"] == []
    counts = client.get(f"{SANDBOX}/counts/").json()["claims"]
    assert counts == {
        "total": 2,
        "acknowledged": 1,
        "by_status": {"approved": 1, "rejected": 1},
    }


def test_approved_return_moves_units_to_returned(client: TestClient) -> None:
    order = one_order(client, items_per_order=1, max_quantity=2)
    oid, lid = order["id"], order["lines"][0]["line_id"]
    client.post(
        f"{SANDBOX}/{oid}/line-update/", json={"status": "delivered", "tracking_number": "T"}
    )
    for _ in range(2):
        claim = client.post(
            f"{SANDBOX}/{oid}/claims/", json={"line_id": lid, "type": "return"}
        ).json()
        client.put(f"{API}/claims/{claim['id']}", json={"decision": "approve"})
    stored = client.get(f"{API}/orders/{oid}").json()
    assert stored["lines"][0]["returned_quantity"] == 2
    assert stored["status"] == "returned"


# ------------------------------------------------------------------------ bad stored rows
def plant(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(f"{SANDBOX}/plant/", json=body)
    assert response.status_code == 201, response.text
    planted: dict[str, Any] = response.json()
    return planted


def test_an_unparsable_price_is_listed_with_its_raw_value(client: TestClient) -> None:
    generate(client, 4)
    bad = plant(client, kind="bad_price")
    page = listing(client, limit=100)  # was a 500 for the whole listing
    assert len(page["items"]) == 5
    served = next(o for o in page["items"] if o["id"] == bad["order_id"])
    assert served["lines"][0]["unit_price"] == "12,50 TL"
    assert served["lines"][0]["line_total"] is None
    assert served["totals"]["subtotal"] is None and served["totals"]["grand_total"] is None
    good = [o for o in page["items"] if o["id"] != bad["order_id"]]
    assert all(o["totals"]["grand_total"] is not None for o in good)


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("huge_quantity", lambda o: o["lines"][0]["quantity"] == 10**12),
        ("negative_price", lambda o: o["lines"][0]["unit_price"] == "-10.00"),
        ("negative_tax", lambda o: o["lines"][0]["tax_rate"] == "-18"),
        (
            "discount_above_price",
            lambda o: float(o["lines"][0]["discount_amount"]) > float(o["lines"][0]["line_total"]),
        ),
        ("bad_currency", lambda o: o["currency"] == "XXXX" and o["lines"][0]["currency"] == "XXXX"),
        (
            "duplicate_sku",
            lambda o: (
                len(o["lines"]) == 2
                and o["lines"][0]["sku"] == o["lines"][1]["sku"]
                and o["lines"][0]["line_id"] != o["lines"][1]["line_id"]
            ),
        ),
        ("long_title", lambda o: len(o["lines"][0]["title"]) == 10_240),
    ],
)
def test_each_planted_kind_is_stored_and_listed_as_given(
    client: TestClient, kind: str, check: Any
) -> None:
    bad = plant(client, kind=kind)
    assert check(bad["served"])
    listed = listing(client, limit=100)["items"]
    assert [o for o in listed if o["id"] == bad["order_id"]] == [bad["served"]]
    assert client.get(f"{SANDBOX}/counts/").json()["by_kind"] == {f"planted:{kind}": 1}


def test_planted_values_override_and_are_bounded(client: TestClient) -> None:
    bad = plant(
        client,
        order={"customer": {"id": None}, "shipping_amount": "free"},
        lines=[{"quantity": "two"}, {"sku": "OTHER"}],
        number_prefix="BAD-",
    )
    served = bad["served"]
    assert served["customer"] == {"id": None} and served["totals"]["shipping"] == "free"
    assert served["lines"][0]["quantity"] == "two" and served["lines"][1]["sku"] == "OTHER"
    assert served["number"].startswith("BAD-")
    refused = [
        {"kind": "nope"},
        {},
        {"lines": [{"quantity": None}]},
        {"lines": [{"quantity": 2**63}]},
        {"lines": [{"title": "x" * 100_001}]},
        {"lines": [{"colour": "red"}]},
        {"order": {"seq": 1}},
        {"lines": [{}] * 51},
    ]
    counts = client.get(f"{SANDBOX}/counts/").json()["orders"]
    for body in refused:
        response = client.post(f"{SANDBOX}/plant/", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_request"
    assert client.get(f"{SANDBOX}/counts/").json()["orders"] == counts  # nothing left behind


def test_actions_on_an_order_with_unreadable_lines_are_refused_not_crashed(
    client: TestClient,
) -> None:
    bad = plant(client, lines=[{"quantity": "two"}])
    oid = bad["order_id"]
    good = generate(client, 1)["first_order_id"]
    results = put_status(
        client, {"order_id": oid, "status": "picking"}, {"order_id": good, "status": "picking"}
    )
    assert results[0]["reasons"][0]["code"] == "order_not_editable"
    assert results[1]["status"] == "accepted"  # one bad order is one rejected item
    assert client.post(f"{SANDBOX}/{oid}/cancel/", json={}).status_code == 409


def test_planted_events_and_claims_are_listed_as_given_beside_the_others(
    client: TestClient,
) -> None:
    order = one_order(client, items_per_order=2, max_quantity=3)
    oid, (first, second) = order["id"], [line["line_id"] for line in order["lines"]]
    update = client.post(f"{SANDBOX}/{oid}/line-update/", json={"status": "picking"})
    cancel = client.post(f"{SANDBOX}/{oid}/cancel/", json={"lines": [{"line_id": first}]})
    claims = [
        client.post(f"{SANDBOX}/{oid}/claims/", json={"line_id": second, "type": "cancel"})
        for _ in range(2)
    ]
    cancel_id = cancel.json()["id"]
    update_id, other_id = (e["id"] for e in update.json()["items"])
    claim_id, good_claim = (c.json()["id"] for c in claims)
    before = {e["id"]: e for e in events(client)}

    merged = client.patch(
        f"{SANDBOX}/plant/events/{update_id}/", json={"values": {"status": "teleported"}}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json() == {**before[update_id], "status": "teleported"}  # the rest kept
    swapped = client.patch(
        f"{SANDBOX}/plant/events/{cancel_id}/",
        json={"values": {"lines": "<html>oops</html>"}, "replace": True},
    ).json()
    assert swapped["lines"] == "<html>oops</html>" and "reason_code" not in swapped
    planted = client.patch(
        f"{SANDBOX}/plant/claims/{claim_id}/",
        json={"values": {"quantity": "many", "reason_code": "r" * 10_000}},
    ).json()
    assert (planted["quantity"], len(planted["reason_code"])) == ("many", 10_000)

    listed = {e["id"]: e for e in events(client)}
    assert listed[update_id] == merged.json() and listed[cancel_id] == swapped
    assert listed[other_id] == before[other_id]  # the others as they were
    served = {c["id"]: c for c in client.get(f"{API}/claims").json()["items"]}
    assert served[claim_id] == planted and served[good_claim]["quantity"] == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("events/EV00000001/", {"values": {}}, 400),
        ("events/EV00000001/", {"values": ["x"]}, 400),
        ("events/EV00000001/", {"values": {"a": 1}, "replace": "yes"}, 400),
        ("events/EV00000001/", {"values": {f"k{i}": i for i in range(51)}}, 400),
        ("events/EV00000001/", {"values": {"lines": "x" * 100_001}}, 400),
        ("events/EV00000001/", {"values": {"a": 1}, "extra": 1}, 400),
        ("events/EV00009999/", {"values": {"a": 1}}, 404),
        ("events/nonsense/", {"values": {"a": 1}}, 404),
        ("claims/CL00000001/", {"values": {"decision_note": "x"}}, 400),
        ("claims/CL00000001/", {"values": {"quantity": None}}, 400),
        ("claims/CL00000001/", {"values": {"quantity": 2**63}}, 400),
        ("claims/CL00000001/", {"values": {"description": "x" * 100_001}}, 400),
        ("claims/CL00009999/", {"values": {"quantity": 1}}, 404),
    ],
)
def test_planting_events_and_claims_is_bounded_and_changes_nothing_when_refused(
    client: TestClient, path: str, body: dict[str, Any], status: int
) -> None:
    order = one_order(client, items_per_order=1, max_quantity=3)
    line = order["lines"][0]["line_id"]
    client.post(f"{SANDBOX}/{order['id']}/line-update/", json={"status": "picking"})
    client.post(f"{SANDBOX}/{order['id']}/claims/", json={"line_id": line, "type": "cancel"})
    before = (events(client), client.get(f"{API}/claims").json()["items"])
    response = client.patch(f"{SANDBOX}/plant/{path}", json=body)
    assert response.status_code == status, response.text
    assert (events(client), client.get(f"{API}/claims").json()["items"]) == before


BAD_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=12),
    st.sampled_from(["{not json", "N/A", "", "1e999", "-0"]),
)
STORED = {  # table -> (columns a bad row may hold anything in, the listing that serves it)
    "orders": (
        "status currency customer shipping_address billing_address cargo_code shipping_amount "
        "discount_amount tracking_number invoice_number invoice_date malformed created_at "
        "updated_at",
        "/api/v1/orders?acknowledged=any&limit=1000",
    ),
    "order_lines": (
        "sku product_id title quantity cancelled_quantity returned_quantity unit_price "
        "list_price discount_amount tax_rate status tracking_number invoice_number invoice_date",
        "/api/v1/orders?acknowledged=any&limit=1000",
    ),
    "products": (
        "title description brand category_id barcode attributes images list_price sale_price "
        "currency stock created_at updated_at",
        "/api/v1/products?limit=1000",
    ),
    "order_events": ("type data created_at", "/api/v1/order-events?acknowledged=any"),
    "claims": (
        "type quantity reason_code description status decision_note created_at decided_at",
        "/api/v1/claims?acknowledged=any",
    ),
    "batches": (
        "kind item_count accepted rejected created_at completed_at payload",
        "/api/v1/batches",
    ),
}
ROWS = {"order_events": 2, "claims": 1, "batches": 1}  # how many the sample market has


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_listing_survives_one_bad_stored_value(data: st.DataObject) -> None:
    """Whatever one stored cell holds, the listing answers JSON and every other order or
    product is served exactly as before."""
    client = MARKET
    store = market_from(client.app).store
    table = data.draw(st.sampled_from(sorted(STORED)))
    cols, path = STORED[table]
    column = data.draw(st.sampled_from(cols.split()))
    value = data.draw(BAD_VALUES)
    key = "seq" if table != "products" else "id"
    target = data.draw(st.integers(min_value=1, max_value=ROWS.get(table, 5)))
    before = client.get(path).json()["items"]
    select = f"SELECT {column} FROM {table} WHERE {key} = ?"  # noqa: S608
    update = f"UPDATE {table} SET {column} = ? WHERE {key} = ?"  # noqa: S608
    original = store.conn.execute(select, (target,)).fetchone()
    try:
        store.conn.execute(update, (value, target))
    except sqlite3.IntegrityError:
        reject()  # the column cannot hold it (SQLite stores NaN as NULL), so no row can
    try:
        response = client.get(path)
        assert response.status_code == 200, response.text
        after = json.loads(response.content, parse_constant=_refuse)["items"]
        touched = [_id(item) for item in before].index(_owner(store, table, target))
        assert len(after) == len(before)
        assert after[:touched] + after[touched + 1 :] == before[:touched] + before[touched + 1 :]
    finally:
        store.conn.execute(update, (original[0], target))


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _id(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return item.get("id", item.get("product_id", item.get("batch_id")))


def _owner(store: Any, table: str, target: int) -> str:
    one = store.conn.execute
    if table == "order_lines":
        order_seq = one("SELECT order_seq FROM order_lines WHERE seq = ?", (target,)).fetchone()[0]
        return f"MO{order_seq:08d}"
    if table == "batches":
        return str(one("SELECT id FROM batches WHERE seq = ?", (target,)).fetchone()[0])
    prefixes = {"orders": "MO", "products": "MP", "order_events": "EV", "claims": "CL"}
    return f"{prefixes[table]}{target:08d}"


def _market() -> TestClient:
    """Five orders, two events (a cancellation, a line update), one claim, one batch."""
    client = make_client(Clock(), products=5)
    generate(client, 5, items_per_order=[1, 2])
    assert client.post(f"{SANDBOX}/MO00000003/cancel/", json={}).status_code == 201
    update = client.post(f"{SANDBOX}/MO00000004/line-update/", json={"status": "picking"})
    assert len(update.json()["items"]) == 1
    line = client.get(f"{API}/orders/MO00000005").json()["lines"][0]["line_id"]
    claim = client.post(f"{SANDBOX}/MO00000005/claims/", json={"line_id": line, "type": "cancel"})
    assert claim.status_code == 201
    return client


MARKET = _market()
