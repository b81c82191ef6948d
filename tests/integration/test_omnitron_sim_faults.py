"""Contract: fault injection, token expiry, /_sandbox/ controls and restart persistence."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=10, seed=1) as running:
        yield running


@pytest.fixture
def token(sim: OmnitronSim) -> Iterator[str]:
    sim.call("DELETE", "/_sandbox/faults/")
    yield sim.login()
    sim.call("DELETE", "/_sandbox/faults/")


def faults(sim: OmnitronSim, **body: Any) -> dict[str, Any]:
    status, state = sim.call("POST", "/_sandbox/faults/", body)
    assert status == 200, state
    return dict(state)


def get(
    sim: OmnitronSim, token: str, path: str = "/api/v1/channel/1/products/"
) -> requests.Response:
    return requests.get(f"{sim.url}{path}", headers=sim.headers(token), timeout=10)


def test_latency_applies_to_api_only(sim: OmnitronSim, token: str) -> None:
    faults(sim, latency_ms=200)
    started = time.perf_counter()
    assert get(sim, token).status_code == 200
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    sim.inspect("counts/")
    assert time.perf_counter() - started < 0.2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_error_status_for_matching_route_then_recovers(
    sim: OmnitronSim, token: str, status: int
) -> None:
    faults(sim, rules=[{"pattern": "/products/$", "action": "error", "status": status, "times": 1}])
    assert get(sim, token).status_code == status
    assert get(sim, token).status_code == 200
    assert get(sim, token, "/api/v1/channels/1/").status_code == 200


def test_429_carries_retry_after(sim: OmnitronSim, token: str) -> None:
    faults(
        sim,
        rules=[
            {
                "pattern": "/products/",
                "action": "error",
                "status": 429,
                "retry_after": 3,
                "times": 1,
            }
        ],
    )
    response = get(sim, token)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"


def test_dropped_connection_has_no_response(sim: OmnitronSim, token: str) -> None:
    faults(sim, rules=[{"pattern": "/products/", "action": "drop", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        get(sim, token)
    assert get(sim, token).status_code == 200


def test_lost_response_applies_the_write(sim: OmnitronSim, token: str) -> None:
    faults(sim, rules=[{"pattern": "/products/$", "action": "lost_response", "times": 1}])
    assert get(sim, token).status_code == 200  # reads are untouched by lost_response
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{sim.url}/api/v1/products/",
            json={"name": "Lost", "sku": "LOST-1"},
            headers=sim.headers(token),
            timeout=10,
        )
    found = get(sim, token, "/api/v1/products/?sku=LOST-1").json()
    assert found["count"] == 1


def test_slow_response_trickles_but_completes(sim: OmnitronSim, token: str) -> None:
    faults(sim, rules=[{"pattern": "/products/", "action": "slow", "delay_ms": 300, "times": 1}])
    started = time.perf_counter()
    response = get(sim, token, "/api/v1/channel/1/products/?limit=10")
    assert time.perf_counter() - started >= 0.25
    assert response.json()["count"] >= 10


def outcomes(sim: OmnitronSim, token: str, seed: int) -> list[int]:
    sim.call("DELETE", "/_sandbox/faults/")
    faults(
        sim,
        seed=seed,
        rules=[{"pattern": "/channels/", "action": "error", "status": 503, "rate": 0.5}],
    )
    return [get(sim, token, "/api/v1/channels/1/").status_code for _ in range(16)]


def test_seeded_faults_are_deterministic(sim: OmnitronSim, token: str) -> None:
    first = outcomes(sim, token, 42)
    assert first == outcomes(sim, token, 42)
    assert set(first) == {200, 503}


def test_sandbox_routes_never_fault(sim: OmnitronSim, token: str) -> None:
    faults(sim, rules=[{"pattern": ".*", "action": "drop"}])
    assert sim.inspect("counts/")["products"] >= 10
    assert sim.inspect("faults/")["rules"][0]["action"] == "drop"


def test_token_expiry_after_uses_and_revocation(sim: OmnitronSim, token: str) -> None:
    faults(sim, token_max_uses=2)
    fresh = sim.login()
    assert get(sim, fresh).status_code == 200
    assert get(sim, fresh).status_code == 200
    expired = get(sim, fresh)
    assert expired.status_code == 401 and "detail" in expired.json()
    assert get(sim, sim.login()).status_code == 200  # re-login once works
    sim.call("DELETE", "/_sandbox/faults/")
    other = sim.login()
    assert sim.call("POST", "/_sandbox/tokens/expire/", {})[0] == 200
    assert get(sim, other).status_code == 401


def test_token_ttl(sim: OmnitronSim, token: str) -> None:
    faults(sim, token_ttl_seconds=0.3)
    fresh = sim.login()
    assert get(sim, fresh).status_code == 200
    time.sleep(0.4)
    assert get(sim, fresh).status_code == 401


def test_login_throttle_is_429(sim: OmnitronSim, token: str) -> None:
    faults(sim, login_limit=2)
    sim.login()
    sim.login()
    status, body = sim.call(
        "POST", "/api/v1/auth/login/", {"username": "sandbox", "password": "sandbox"}
    )
    assert status == 429 and "detail" in body


def test_inspection_routes(sim: OmnitronSim, token: str) -> None:
    counts = sim.inspect("counts/")
    assert {"products", "orders", "integration_actions", "batch_requests"} <= set(counts)
    assert sim.inspect("batch_requests/")["count"] == counts["batch_requests"]
    assert sim.inspect("integration_actions/?status=success")["next"] is None
    assert sim.call("GET", "/_sandbox/orders/NOPE/")[0] == 404


def test_cli_flags_and_restart_keeps_state() -> None:
    with omnitron_simulator(
        "--latency-ms",
        "150",
        "--fault",
        "pattern=/channels/,action=error,status=502,times=1",
        seed_products=5,
    ) as sim:
        token = sim.login()
        state = sim.inspect("faults/")
        assert state["latency_ms"] == 150 and state["rules"][0]["status"] == 502
        assert get(sim, token, "/api/v1/channels/1/").status_code == 502
        started = time.perf_counter()
        created = requests.post(
            f"{sim.url}/api/v1/products/",
            json={"name": "Kept", "sku": "KEEP-1"},
            headers=sim.headers(token),
            timeout=10,
        )
        assert created.status_code == 201 and time.perf_counter() - started >= 0.15
        sim.restart()
        assert get(sim, token, "/api/v1/products/?sku=KEEP-1").json()["count"] == 1
        assert sim.inspect("counts/")["products"] == 6  # reseeding skipped on restart


def test_lost_create_order_response_then_lookup_by_number(sim: OmnitronSim, token: str) -> None:
    """The exactly-once scenario: the order exists although the client saw no answer."""
    api = sim.client()
    customer = api.ok("POST", "/channel/1/customers/", {"email": "lost@example.com"})
    address = api.ok(
        "POST",
        "/channel/1/addresses/",
        {"customer": customer["pk"], "country": 1, "city": 1, "line": "x", "first_name": "L"},
    )
    body = {
        "order": {
            "number": "LOST-1",
            "customer": customer["pk"],
            "amount": "10",
            "shipping_address": address["pk"],
            "billing_address": address["pk"],
        },
        "order_item": [{"product": 1, "price": "10"}],
    }
    faults(sim, rules=[{"pattern": "/create_orders/$", "action": "lost_response", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{sim.api}/channel/1/create_orders/", json=body, headers=sim.headers(token), timeout=10
        )
    found = api.ok("GET", "/channel/1/orders/?number=LOST-1&channel_id=1")
    assert found["count"] == 1
    status, _ = api.post("/channel/1/create_orders/", body)
    assert status == 400  # a blind retry is refused, never duplicated
    assert sim.inspect("orders/LOST-1/")["count_with_number"] == 1


def test_seed_subcommand(tmp_path: Path) -> None:
    state = tmp_path / "seeded.sqlite3"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "channel_app_template.cli",
            "sandbox",
            "omnitron-seed",
            "--state",
            str(state),
            "--products",
            "25",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "seeded 25 products" in done.stderr
    with omnitron_simulator(state=state) as sim:
        assert sim.inspect("counts/")["products"] == 25
