"""Contract: fault injection, token expiry, /_sandbox/ controls and restart persistence."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "channel_app_template.cli", "sandbox", "omnitron", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_channel_conf_flag_and_route(tmp_path: Path) -> None:
    conf_file = tmp_path / "conf.json"
    conf_file.write_text(json.dumps({"api_url": "http://127.0.0.1:9/", "api_key": "s3cret"}))
    with omnitron_simulator("--channel-conf", f"@{conf_file}") as sim:
        api = sim.client()
        assert api.ok("GET", "/channels/1/")["conf"] == json.loads(conf_file.read_text())
        assert "channel.conf replaced (2 keys: api_key, api_url)" in sim.service.output()
        assert "s3cret" not in sim.service.output()
        sim.channel_conf({"api_key": "other"}, merge=True)
        assert api.ok("GET", "/channels/1/")["conf"]["api_key"] == "other"
        sim.restart("--channel-conf", '{"remote_id_attribute": "sku"}')
        assert sim.client().ok("GET", "/channels/1/")["conf"] == {"remote_id_attribute": "sku"}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--fault", "pattern=x,action=explode"), "--fault #1: unknown action 'explode'"),
        (("--fault", '{"action": "huge_body", "size_bytes": 0}'), "size_bytes must be within"),
        (("--latency-ms", "-5"), "--latency-ms: latency_ms must be within"),
        (("--channel-conf", "[1]"), "must be a JSON object"),
        (("--channel-conf", '{"api_key": "s3cret", nope}'), "not valid JSON"),
        (("--channel-conf", "@/nonexistent/conf.json"), "cannot read the file"),
    ],
)
def test_bad_start_up_flags_are_usage_errors(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    done = _cli("--port", "1", "--state", str(tmp_path / "s.db"), *flags)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "s3cret" not in done.stderr


def test_misbehaviour_rules_from_the_command_line() -> None:
    with omnitron_simulator(
        "--fault",
        '{"pattern": "/api/v1/products/$", "action": "repeat_next"}',
        "--fault",
        "pattern=/channel/1/products/$,action=ignore_page",
        seed_products=30,
    ) as sim:
        api = sim.client()
        page = api.ok("GET", "/products/?limit=10&page=3")
        assert page["next"] == f"{sim.api}/products/?limit=10&page=3"
        first = api.ok("GET", "/channel/1/products/?limit=10&page=1")
        assert api.ok("GET", "/channel/1/products/?limit=10&page=2") == first
        rules = sim.inspect("faults/")["rules"]
        assert [(r["action"], r["fired"]) for r in rules] == [
            ("repeat_next", 1),
            ("ignore_page", 2),
        ]


def test_a_huge_body_streams_and_a_departed_client_frees_the_server(
    sim: OmnitronSim, token: str
) -> None:
    sim.fault(pattern="/api/v1/products/$", action="huge_body", size_bytes=1_000_000_000)
    server = _served_by(sim)
    with requests.get(
        f"{sim.api}/products/?limit=5", headers=sim.headers(token), stream=True, timeout=30
    ) as response:
        assert response.headers["content-length"] == "1000000000"
        head = next(response.iter_content(65536))
        assert head.startswith(b'{"count":')
        started = time.monotonic()  # others are served while the huge answer is open
        assert get(sim, token, "/api/v1/channels/1/").status_code == 200
        assert time.monotonic() - started < 5
    # the client left after 64 KiB of 1 GB: the server stops making the rest
    time.sleep(0.5)
    before = _cpu(server)
    time.sleep(2)
    assert _cpu(server) - before < 0.5, "still producing the body after the client left"
    sim.clear_faults()
    sim.fault(pattern="/api/v1/products/$", action="extra_rows", rows=5000)
    rows = requests.get(f"{sim.api}/products/?limit=5", headers=sim.headers(token), timeout=30)
    assert len(rows.json()["results"]) == 5000


def test_a_trickled_body_holds_only_its_own_request(sim: OmnitronSim, token: str) -> None:
    sim.fault(pattern="/api/v1/products/$", action="trickle", bytes_per_second=200)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as slow:
        request = (
            f"GET /api/v1/products/?limit=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {token}\r\n\r\n"
        )
        slow.sendall(request.encode())
        received = slow.recv(4096)  # the headers come at once, then 20 bytes every 100 ms
        assert received.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert get(sim, token, "/api/v1/channels/1/").status_code == 200
        assert time.monotonic() - started < 5
    assert sim.inspect("faults/")["rules"][0]["fired"] == 1


def _served_by(sim: OmnitronSim) -> psutil.Process:
    """The process that serves: the CLI's own, or its child if it forked one."""
    process = psutil.Process(sim.service.process.pid)
    children = process.children(recursive=True)
    return children[0] if children else process


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)
