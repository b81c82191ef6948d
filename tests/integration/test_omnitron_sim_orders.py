"""Contract: customers, addresses, locations, cargos, orders, items, cancellations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
C = "/channel/1"


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=20, seed=5) as running:
        yield running


@pytest.fixture(scope="module")
def api(sim: OmnitronSim) -> ApiClient:
    return sim.client()


def one(api: ApiClient, path: str) -> dict[str, Any]:
    body = api.ok("GET", path)
    assert body["count"] == 1, (path, body)
    result: dict[str, Any] = body["results"][0]
    return result


def locations(api: ApiClient) -> dict[str, int]:
    country = one(api, f"{C}/countries/?code__exact=TR&is_active=true")
    assert one(api, f"{C}/countries/?name__exact=T%C3%BCrkiye")["pk"] == country["pk"]
    mapped = one(
        api, f"{C}/countries/?mapping__code__exact=1_TR&mapping__integration_type=sales_channel"
    )
    assert mapped["pk"] == country["pk"]
    city = one(api, f"{C}/cities/?name__iexact=istanbul&country={country['pk']}&is_active=true")
    township = one(
        api,
        f"{C}/townships/?name__iexact=KADIKOY&country={country['pk']}"
        f"&city={city['pk']}&is_active=true",
    )
    district = one(
        api,
        f"{C}/districts/?name__exact=Moda&country={country['pk']}"
        f"&city={city['pk']}&township={township['pk']}&is_active=true",
    )
    assert one(api, f"{C}/districts/?mapping__code__exact=1_MODA")["pk"] == district["pk"]
    return {
        "country": country["pk"],
        "city": city["pk"],
        "township": township["pk"],
        "district": district["pk"],
    }


def customer_and_address(api: ApiClient, email: str) -> tuple[int, int]:
    customer = api.ok(
        "POST",
        f"{C}/customers/",
        {
            "channel": 1,
            "email": email,
            "phone_number": "05550000000",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "extra_field": {},
            "channel_code": "c-1",
            "is_active": True,
        },
    )
    address = api.ok(
        "POST",
        f"{C}/addresses/",
        {
            "email": email,
            "phone_number": "05550000000",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "customer": customer["pk"],
            **locations(api),
            "title": "Home",
            "line": "Street 1",
            "postcode": "34000",
        },
    )
    return customer["pk"], address["pk"]


def order_body(number: str, customer: int, address: int, products: list[int]) -> dict[str, Any]:
    return {
        "order": {
            "number": number,
            "status": "400",
            "channel": 1,
            "customer": customer,
            "shipping_address": address,
            "billing_address": address,
            "currency": "try",
            "amount": "100.50",
            "shipping_amount": "0",
            "extra_field": {"id": f"R-{number}"},
            "cargo_company": 1,
            "discount_amount": "0",
            "client_type": "default",
            "date_placed": "2024-01-01 12:00:00.123456",
        },
        "order_item": [
            {
                "product": pk,
                "status": "400",
                "price_currency": "try",
                "price": "50.25",
                "tax_rate": "18",
                "extra_field": {"id": f"L{i}"},
            }
            for i, pk in enumerate(products)
        ],
    }


def test_cargos_and_reasons(api: ApiClient) -> None:
    cargo = one(api, f"{C}/cargos/?erp_code=yurtici")
    assert cargo["shipping_company"] == "yurtici"
    assert api.ok("GET", f"{C}/cargos/{cargo['pk']}/")["name"] == cargo["name"]
    reason = api.ok("GET", f"{C}/cancellation_reasons/?limit=50")["results"]
    assert 10 in {r["pk"] for r in reason}
    assert one(api, f"{C}/retail_stores/?erp_code=STORE1")["pk"] == 1


def test_customer_lookup_and_patch(api: ApiClient) -> None:
    customer, _ = customer_and_address(api, "cust@example.com")
    found = one(api, f"{C}/customers/?email=cust@example.com&channel=1")
    assert found["pk"] == customer and found["date_joined"]
    patched = api.ok("PATCH", f"{C}/customers/{customer}/", {"channel": 1, "first_name": "A"})
    assert patched["first_name"] == "A"
    assert one(api, f"{C}/customers/?phone_number=05550000000&email=cust@example.com")


def test_duplicate_address_points_at_hash_data(api: ApiClient) -> None:
    customer, address = customer_and_address(api, "dup@example.com")
    first = api.ok("GET", f"{C}/addresses/{address}/")
    body = {
        k: first[k]
        for k in (
            "email",
            "phone_number",
            "first_name",
            "last_name",
            "customer",
            "country",
            "city",
            "township",
            "district",
            "title",
            "line",
            "postcode",
        )
    }
    status, error = api.post(f"{C}/addresses/", body)
    assert 400 <= status < 500
    token = error["non_field_errors"].split()[0]
    assert token == f"hash_data:{first['hash_data']}"
    assert one(api, f"{C}/addresses/?hash_data={first['hash_data']}")["pk"] == address
    assert customer


def test_create_order_lookup_and_duplicate_number(api: ApiClient, sim: OmnitronSim) -> None:
    customer, address = customer_and_address(api, "order@example.com")
    assert api.ok("GET", f"{C}/orders/?number=N-1&channel_id=1")["count"] == 0
    order = api.ok("POST", f"{C}/create_orders/", order_body("N-1", customer, address, [1, 2, 2]))
    assert order["number"] == "N-1" and order["amount"] == "100.50"
    assert order["extra_field"] == {"id": "R-N-1"}
    assert order["date_placed"] == "2024-01-01T12:00:00.123456Z"
    assert len(order["orderitem_set"]) == 3
    assert one(api, f"{C}/orders/?number=N-1&channel_id=1")["pk"] == order["pk"]
    assert api.ok("GET", "/order_number/N-1/")["pk"] == order["pk"]
    status, body = api.post(f"{C}/create_orders/", order_body("N-1", customer, address, [1]))
    assert status == 400 and "number" in str(body)
    assert sim.inspect("orders/N-1/")["count_with_number"] == 1
    items = api.all_pages(f"{C}/order_items/?order={order['pk']}&sort=id")
    assert [i["product"] for i in items] == [1, 2, 2]
    assert items[0]["price_list"] == 1 and items[0]["stock_list"] == 1


def test_create_order_rejects_unknown_pks(api: ApiClient) -> None:
    customer, address = customer_and_address(api, "bad@example.com")
    status, body = api.post(f"{C}/create_orders/", order_body("N-2", 99999, address, [1]))
    assert status == 400 and "customer" in body["order"]
    status, body = api.post(f"{C}/create_orders/", order_body("N-2", customer, address, [99999]))
    assert status == 400 and "product" in body["order_item"][0]
    assert api.ok("GET", f"{C}/orders/?number=N-2")["count"] == 0


def commit_order(api: ApiClient, order: dict[str, Any]) -> None:
    batch = api.ok("POST", f"{C}/batch_requests/", {"channel": 1})
    objs = [
        {
            "pk": order["pk"],
            "content_type": "order",
            "remote_id": order["extra_field"]["id"],
            "version_date": order["modified_date"],
            "failed_reason_type": None,
        }
    ]
    objs += [
        {
            "pk": i["pk"],
            "content_type": "orderitem",
            "remote_id": i["extra_field"]["id"],
            "version_date": i["modified_date"],
            "failed_reason_type": None,
        }
        for i in order["orderitem_set"]
    ]
    api.ok(
        "PATCH",
        f"{C}/batch_requests/{batch['pk']}/",
        {"channel": 1, "status": "commit", "content_type": "order", "objects": objs},
    )
    api.ok(
        "PATCH",
        f"{C}/batch_requests/{batch['pk']}/",
        {"channel": 1, "status": "done", "objects": objs},
    )


def test_item_update_puts_order_in_updates_and_cancel(api: ApiClient, sim: OmnitronSim) -> None:
    customer, address = customer_and_address(api, "upd@example.com")
    order = api.ok("POST", f"{C}/create_orders/", order_body("N-3", customer, address, [3, 4]))
    commit_order(api, order)
    ias = sim.inspect("orders/N-3/")["integration_actions"]
    assert {(a["content_type"]["model"], a["status"]) for a in ias} == {
        ("order", "success"),
        ("orderitem", "success"),
    }
    assert order["pk"] not in [o["pk"] for o in api.all_pages(f"{C}/orders/updates/")]
    item = order["orderitem_set"][0]
    patched = api.ok(
        "PATCH",
        f"{C}/order_items/{item['pk']}/",
        {
            "status": "550",
            "invoice_number": "INV-1",
            "invoice_date": "2024-01-02T00:00:00Z",
            "tracking_number": "T1",
        },
    )
    assert patched["status"] == "550" and patched["invoice_number"] == "INV-1"
    assert order["pk"] in [o["pk"] for o in api.all_pages(f"{C}/orders/updates/")]
    second = order["orderitem_set"][1]
    cancelled = api.ok(
        "POST",
        f"{C}/orders/{order['pk']}/cancel/",
        {
            "order": order["pk"],
            "cancel_items": [second["pk"]],
            "reasons": {str(second["pk"]): 10},
            "forced_refund_amount": None,
        },
    )
    statuses = {i["pk"]: i["status"] for i in cancelled["orderitem_set"]}
    assert statuses[second["pk"]] == "100" and statuses[item["pk"]] == "550"
    assert (
        api.post(
            f"{C}/orders/{order['pk']}/cancel/",
            {"order": order["pk"], "cancel_items": [second["pk"]], "reasons": {}},
        )[0]
        == 406
    )
    assert (
        api.post(
            f"{C}/orders/{order['pk']}/cancel/",
            {"order": order["pk"], "cancel_items": [999999], "reasons": {}},
        )[0]
        == 400
    )


def test_cancellation_requests(api: ApiClient) -> None:
    customer, address = customer_and_address(api, "cr@example.com")
    order = api.ok("POST", f"{C}/create_orders/", order_body("N-4", customer, address, [5]))
    item = order["orderitem_set"][0]["pk"]
    request = api.ok(
        "POST",
        f"{C}/cancellation_requests/",
        {
            "order_item": item,
            "reason": 10,
            "remote_id": "CR-1",
            "description": "changed mind",
            "cancellation_type": "refund",
        },
    )
    assert request["id"] and "pk" not in request and request["status"] == "waiting"
    listed = api.ok(
        "GET", f"{C}/cancellation_requests/?status=waiting&cancellation_type=refund&limit=10"
    )
    assert [r["id"] for r in listed["results"]] == [request["id"]]
    assert api.ok("GET", f"{C}/cancellation_requests/updates/")["count"] == 0
    assert (
        api.post(
            f"{C}/cancellation_requests/", {"order_item": 999999, "reason": 10, "description": "x"}
        )[0]
        == 400
    )


def test_shipping_info(api: ApiClient) -> None:
    customer, address = customer_and_address(api, "ship@example.com")
    order = api.ok("POST", f"{C}/create_orders/", order_body("N-5", customer, address, [6]))
    info = api.ok(
        "POST",
        f"{C}/order_shipping_infos/",
        {
            "order": order["pk"],
            "order_number": "N-5",
            "shipping_company": "yurtici",
            "is_send": True,
        },
    )
    assert info["order"] == order["pk"] and info["shipping_company"] == "yurtici"
