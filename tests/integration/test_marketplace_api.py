"""Contract over a real ``channel-app sandbox marketplace`` process: endpoints, speed, faults,
rate limits, CLI flags and restart persistence."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.marketplace import MarketplaceSim, marketplace_server, product_payload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shared() -> Iterator[MarketplaceSim]:
    with marketplace_server(seed=5) as server:
        yield server


@pytest.fixture
def market(shared: MarketplaceSim) -> MarketplaceSim:
    shared.reset()
    shared.settings(batch_delay_seconds=0.2, rate_limit=0)
    return shared


def wait_completed(market: MarketplaceSim, batch_id: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        status, body, _ = market.call("GET", f"/api/v1/batches/{batch_id}")
        assert status == 200, body
        if body["status"] == "completed":
            return body
        assert time.monotonic() < deadline, "batch never completed"
        time.sleep(0.05)


def test_every_endpoint_answers(market: MarketplaceSim) -> None:
    ok = [
        ("GET", "/api/v1/categories", None, 200),
        ("GET", "/api/v1/categories/tree", None, 200),
        ("GET", "/api/v1/categories/2002", None, 200),
        ("GET", "/api/v1/categories/2002/attributes", None, 200),
        ("GET", "/api/v1/attributes", None, 200),
        ("GET", "/api/v1/attributes/1/values", None, 200),
        ("POST", "/api/v1/products", {"items": [product_payload(1)]}, 202),
        ("GET", "/api/v1/products", None, 200),
        ("PUT", "/api/v1/products/stock", {"items": [{"sku": "S", "quantity": 1}]}, 200),
        ("PUT", "/api/v1/products/prices", {"items": [{"sku": "S", "list_price": 1}]}, 200),
        ("PUT", "/api/v1/products/images", {"items": [{"sku": "S", "images": []}]}, 202),
        ("POST", "/api/v1/products/delete", {"items": [{"sku": "S"}]}, 200),
        ("GET", "/api/v1/batches", None, 200),
        ("GET", "/api/v1/products/SKU-0000404", None, 404),
        ("GET", "/api/v1/batches/b-none", None, 404),
    ]
    for method, path, body, expected in ok:
        status, answer, headers = market.call(method, path, body)
        assert status == expected, (method, path, answer)
        assert headers["content-type"] == "application/json"
        status, answer, _ = market.call(method, path, body, api_key=None)
        assert status == 401 and answer["error"]["code"] == "unauthorized"


def test_thousand_item_upsert_is_fast(market: MarketplaceSim) -> None:
    items = [product_payload(i) for i in range(1000)]
    started = time.perf_counter()
    status, body, _ = market.call("POST", "/api/v1/products", {"items": items})
    accepted_in = time.perf_counter() - started
    assert status == 202
    assert accepted_in < 0.5, accepted_in
    batch = wait_completed(market, body["batch_id"])
    assert batch["accepted_count"] == 1000 and len(batch["items"]) == 1000
    status, body, _ = market.call("POST", "/api/v1/products", {"items": items + items[:1]})
    assert status == 413 and body["error"]["details"] == {"max_items": 1000, "received": 1001}


def test_upsert_twice_gives_same_ids(market: MarketplaceSim) -> None:
    ids = []
    for _ in range(2):
        _, body, _ = market.call(
            "POST", "/api/v1/products", {"items": [product_payload(i) for i in range(3)]}
        )
        ids.append([i["product_id"] for i in wait_completed(market, body["batch_id"])["items"]])
    assert ids[0] == ids[1] == ["MP00000001", "MP00000002", "MP00000003"]
    assert market.inspect("counts/")["products"] == 3


def test_rate_limit_at_run_time(market: MarketplaceSim) -> None:
    market.settings(rate_limit=1, rate_burst=2)
    statuses = [market.call("GET", "/api/v1/categories")[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    status, body, headers = market.call("GET", "/api/v1/categories")
    assert status == 429 and headers["retry-after"] == "1"
    assert body["error"]["code"] == "rate_limited"
    # another API key would have its own bucket; /_sandbox/ is never limited
    assert market.inspect("settings/")["rate_limit"] == 1
    time.sleep(1.05)
    assert market.call("GET", "/api/v1/categories")[0] == 200


def test_error_and_429_faults(market: MarketplaceSim) -> None:
    market.fault(pattern="/categories$", action="error", status=503, times=1)
    status, body, _ = market.call("GET", "/api/v1/categories")
    assert status == 503 and body["error"]["code"] == "unavailable"
    assert market.call("GET", "/api/v1/categories")[0] == 200
    market.fault(pattern="/attributes", action="error", status=429, retry_after=7)
    status, body, headers = market.call("GET", "/api/v1/attributes")
    assert status == 429 and headers["retry-after"] == "7"
    assert market.inspect("health/") == {"status": "ok"}  # faults never touch /_sandbox/


def test_drop_closes_the_connection(market: MarketplaceSim) -> None:
    market.fault(pattern="/categories", action="drop", times=1)
    connection = http.client.HTTPConnection("127.0.0.1", market.port, timeout=5)
    connection.request("GET", "/api/v1/categories", headers={"X-Api-Key": market.api_key})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, socket.timeout)):
        connection.getresponse()
    connection.close()


def test_lost_response_applies_the_write(market: MarketplaceSim) -> None:
    market.settings(batch_delay_seconds=0)
    market.fault(pattern="/products$", action="lost_response", times=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        market.call("POST", "/api/v1/products", {"items": [product_payload(1)]})
    assert market.inspect("counts/")["batches"] == 1
    assert market.inspect("products/SKU-0000001/")["product_id"] == "MP00000001"


def test_latency_and_slow_faults(market: MarketplaceSim) -> None:
    market.control("POST", "faults/", {"latency_ms": 150})
    started = time.perf_counter()
    market.call("GET", "/api/v1/attributes")
    assert time.perf_counter() - started >= 0.15
    market.control("DELETE", "faults/")
    market.fault(pattern="/categories$", action="slow", delay_ms=200, times=1)
    started = time.perf_counter()
    status, body, _ = market.call("GET", "/api/v1/categories")
    assert status == 200 and len(body["items"]) == 12
    assert time.perf_counter() - started >= 0.15


def test_seeded_fault_decisions_repeat(market: MarketplaceSim) -> None:
    outcomes = []
    for _ in range(2):
        market.control(
            "POST",
            "faults/",
            {
                "replace": True,
                "seed": 42,
                "rules": [{"pattern": "/attributes", "action": "error", "rate": 0.5}],
            },
        )
        outcomes.append([market.call("GET", "/api/v1/attributes")[0] for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


def test_cli_flags_and_restart_keep_state(tmp_path: Any) -> None:
    state = tmp_path / "market.sqlite3"
    flags = ("--api-key", "k-1", "--latency-ms", "1", "--fault", "pattern=/nothing,action=drop")
    with marketplace_server(*flags, state=state, batch_delay=30) as market:
        market.api_key = "k-1"
        assert market.call("GET", "/api/v1/categories", api_key="sandbox-key")[0] == 401
        assert market.inspect("faults/")["latency_ms"] == 1
        assert market.inspect("faults/")["rules"][0]["action"] == "drop"
        _, first, _ = market.call("POST", "/api/v1/products", {"items": [product_payload(1)]})
        assert market.complete_batches() == 1
        _, pending, _ = market.call("POST", "/api/v1/products", {"items": [product_payload(2)]})
        market.call(
            "PUT", "/api/v1/products/stock", {"items": [{"sku": "SKU-0000001", "quantity": 9}]}
        )
        market.restart(*flags, "--batch-delay", "30")
        # the completed batch, its product and the stock survive; so does the pending batch,
        # still processing (its due time was fixed when it was accepted)
        _, batch, _ = market.call("GET", f"/api/v1/batches/{first['batch_id']}")
        assert batch["status"] == "completed" and batch["items"][0]["product_id"] == "MP00000001"
        assert market.inspect("products/SKU-0000001/")["stock"] == 9
        _, later, _ = market.call("GET", f"/api/v1/batches/{pending['batch_id']}")
        assert later["status"] == "processing"
        assert market.complete_batches() == 1
        _, later, _ = market.call("GET", f"/api/v1/batches/{pending['batch_id']}")
        assert later["status"] == "completed" and later["items"][0]["product_id"] == "MP00000002"
        assert market.inspect("counts/")["products"] == 2


def test_bad_orders_planted_through_the_api_are_listed_beside_good_ones(
    market: MarketplaceSim,
) -> None:
    market.seed_products(3)
    market.generate_orders(4)
    planted = {kind: market.plant_order(kind) for kind in ("bad_price", "huge_quantity")}
    planted["custom"] = market.plant_order(lines=[{"tax_rate": "-18"}, {}])
    status, page, _ = market.call("GET", "/api/v1/orders?limit=100")
    assert status == 200 and len(page["items"]) == 7  # the bad price no longer fails the page
    by_id = {order["id"]: order for order in page["items"]}
    assert by_id[planted["bad_price"]["order_id"]]["lines"][0]["unit_price"] == "12,50 TL"
    assert by_id[planted["huge_quantity"]["order_id"]]["lines"][0]["quantity"] == 10**12
    custom = by_id[planted["custom"]["order_id"]]
    assert custom["lines"][0]["tax_rate"] == "-18" and len(custom["lines"]) == 2
    assert market.order_counts()["by_kind"]["planted:bad_price"] == 1


def test_misbehaviour_flags_on_the_command_line() -> None:
    flags = (
        "--fault",
        '{"pattern": "/orders$", "action": "repeat_next"}',
        "--fault",
        "pattern=/products$,action=extra_rows,rows=3000,methods=GET",
    )
    with marketplace_server(*flags) as market:
        market.seed_products(3)
        market.generate_orders(5)
        _, first, _ = market.call("GET", "/api/v1/orders?limit=2")
        _, again, _ = market.call("GET", f"/api/v1/orders?limit=2&cursor={first['next_cursor']}")
        assert again["next_cursor"] == first["next_cursor"]  # a cursor that never moves
        _, products, _ = market.call("GET", "/api/v1/products?limit=1")
        assert len(products["items"]) == 3000
