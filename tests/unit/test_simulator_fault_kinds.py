"""The misbehaviour fault kinds of both simulators, in process: looping and ignored paging,
empty pages, huge and trickled bodies, wrong shapes, odd values; each set through the public
``/_sandbox/faults/`` routes, scoped by path pattern."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from channel_app_template.sandbox.common.faults import FaultConfig, FaultRule, parse_rule_flag
from channel_app_template.sandbox.common.faults._throttle import DisconnectWatcher, throttle
from channel_app_template.sandbox.marketplace.app import create_app as create_market
from channel_app_template.sandbox.omnitron.app import create_app as create_omnitron, sim_from
from channel_app_template.sandbox.omnitron.seed import seed_catalog
from tests.support.marketplace import product_payload

PRODUCTS = "/api/v1/products/"


def _quiet(app: Any) -> TestClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app)


@pytest.fixture
def omnitron() -> Iterator[TestClient]:
    app = create_omnitron(":memory:")
    seed_catalog(sim_from(app).store, 30)
    client = _quiet(app)
    token = client.post(
        "/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"}
    ).json()["key"]
    client.headers["Authorization"] = f"Token {token}"
    yield client


@pytest.fixture
def market() -> Iterator[TestClient]:
    client = _quiet(create_market(":memory:", batch_delay=0, rate_limit=0))
    client.headers["X-Api-Key"] = "sandbox-key"
    items = [product_payload(i) for i in range(1, 31)]
    assert client.post("/api/v1/products", json={"items": items}).status_code == 202
    assert client.post("/_sandbox/orders/generate/", json={"count": 30}).status_code == 201
    yield client


def rule(client: TestClient, **spec: Any) -> dict[str, Any]:
    """Replace every rule by this one, through the public control route."""
    response = client.post("/_sandbox/faults/", json={"replace": True, "rules": [spec]})
    assert response.status_code == 200, response.text
    added: dict[str, Any] = response.json()["rules"][-1]
    return added


def body(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------ paging that never ends
def test_repeat_next_points_omnitron_back_at_the_same_page(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="repeat_next")
    first = body(omnitron, f"{PRODUCTS}?limit=10&page=3")
    assert first["next"].endswith("/api/v1/products/?limit=10&page=3")  # even on the last page
    again = body(omnitron, first["next"].replace("http://testserver", ""))
    assert again["results"] == first["results"] and again["next"] == first["next"]


def test_repeat_next_repeats_the_marketplace_cursor_and_offset(market: TestClient) -> None:
    rule(market, pattern="/orders$", action="repeat_next")
    page = body(market, "/api/v1/orders?limit=5")
    cursor = page["next_cursor"]
    assert cursor is not None
    following = body(market, f"/api/v1/orders?limit=5&cursor={cursor}")
    assert following["next_cursor"] == cursor  # repeated: it never moves forward
    rule(market, pattern="/products$", action="repeat_next")
    assert body(market, "/api/v1/products?limit=5&offset=25")["next_offset"] == 25
    assert body(market, "/api/v1/products?limit=5")["next_offset"] == 0
    rule(market, pattern="/products$", action="repeat_next", value=0)
    assert body(market, "/api/v1/products?limit=5&offset=25")["next_offset"] == 0


def test_ignore_page_serves_page_one_for_every_page(
    omnitron: TestClient, market: TestClient
) -> None:
    page_one = body(omnitron, f"{PRODUCTS}?limit=10&page=1")
    rule(omnitron, pattern="/products/$", action="ignore_page")
    for number in (2, 3, 50):
        page = body(omnitron, f"{PRODUCTS}?limit=10&page={number}")
        assert page["results"] == page_one["results"]
        assert page["next"] is not None  # page one always has more
    first = body(market, "/api/v1/orders?limit=5")
    rule(market, pattern="/orders$", action="ignore_page")
    repeated = body(market, f"/api/v1/orders?limit=5&cursor={first['next_cursor']}")
    assert repeated["items"] == first["items"]
    assert repeated["next_cursor"] == first["next_cursor"]


def test_ignore_page_only_touches_matching_paths(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/channel/1/products/$", action="ignore_page")
    assert body(omnitron, f"{PRODUCTS}?limit=10&page=2")["results"][0]["pk"] == 11
    assert body(omnitron, "/api/v1/channel/1/products/?limit=10&page=2")["results"][0]["pk"] == 1


def test_empty_pages_keep_a_pointer_that_moves(omnitron: TestClient, market: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="empty_page")
    page = body(omnitron, f"{PRODUCTS}?limit=10&page=999")  # past the end: still 200
    assert page["results"] == [] and page["next"].endswith("page=1000")
    rule(market, pattern="/orders$", action="empty_page")
    orders = body(market, "/api/v1/orders?limit=5&cursor=7")
    assert orders["items"] == [] and orders["next_cursor"] == "8"
    rule(market, pattern="/products$", action="empty_page")
    products = body(market, "/api/v1/products?limit=5&offset=100")
    assert products["items"] == [] and products["next_offset"] == 105


# ------------------------------------------------------------------------ huge answers
def test_huge_body_has_the_size_asked_and_stays_valid_json(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="huge_body", size_bytes=2_000_000)
    response = omnitron.get(f"{PRODUCTS}?limit=10")
    assert response.headers["content-length"] == "2000000"
    assert len(response.content) == 2_000_000
    rows = response.json()["results"]
    assert len(rows) > 10  # far more rows than the limit asked for
    pks = [row["pk"] for row in rows]
    assert len(set(pks)) == len(pks) and pks[:10] == list(range(1, 11))
    assert rows[-1]["sku"] != rows[0]["sku"]  # made-up rows look like distinct products


def test_huge_body_chunked_and_on_an_object_answer(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="huge_body", size_bytes=300_000, chunked=True)
    response = omnitron.get(f"{PRODUCTS}?limit=10")
    assert "content-length" not in response.headers
    assert len(response.content) == 300_000 and len(response.json()["results"]) > 10
    rule(omnitron, pattern="/channels/1/$", action="huge_body", size_bytes=100_000)
    channel = omnitron.get("/api/v1/channels/1/")
    assert len(channel.content) == 100_000 and channel.json()["pk"] == 1


def test_extra_rows_ignore_the_limit(market: TestClient) -> None:
    rule(market, pattern="/orders$", action="extra_rows", rows=2500)
    items = body(market, "/api/v1/orders?limit=10")["items"]
    assert len(items) == 2500
    ids = [item["id"] for item in items]
    assert len(set(ids)) == 2500 and ids[10].startswith("MO")


def test_trickle_sends_at_the_rate_asked(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="trickle", bytes_per_second=20_000)
    started = time.monotonic()
    response = omnitron.get(f"{PRODUCTS}?limit=30")
    elapsed = time.monotonic() - started
    size = len(response.content)
    assert response.json()["count"] == 30 and size > 20_000
    # a lower bound only: a loaded machine is slower, never faster (one chunk goes at once)
    assert elapsed >= (size - 2_000) / 20_000 * 0.9


def test_a_trickle_stops_when_the_client_leaves() -> None:
    sent: list[bytes] = []

    class Gone:
        gone = False

        def start(self) -> None:
            pass

    watcher = Gone()

    async def send(message: Any) -> None:
        sent.append(message.get("body", b""))
        watcher.gone = True  # the client leaves after the first chunk

    throttled = throttle(send, 1_000, watcher)  # type: ignore[arg-type]
    asyncio.run(throttled({"type": "http.response.body", "body": b"x" * 10_000}))
    assert sent == [b"x" * 100]


def test_the_disconnect_watcher_learns_the_client_left() -> None:
    async def scenario() -> bool:
        messages = [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]

        async def receive() -> Any:
            return messages.pop(0)

        watcher = DisconnectWatcher(receive)
        watcher.start()
        for _ in range(100):
            if watcher.gone:
                break
            await asyncio.sleep(0.02)
        watcher.stop()
        return watcher.gone

    assert asyncio.run(scenario())


# ------------------------------------------------------------------------ wrong shapes and values
@pytest.mark.parametrize(
    ("shape", "check"),
    [
        ("list", lambda b: isinstance(b, list) and b[0]["count"] == 30),
        ("object", lambda b: b["unexpected"]["count"] == 30),
        ("string", lambda b: json.loads(b)["count"] == 30),
        ("null", lambda b: b is None),
        ("number", lambda b: b == 42),
        ("rows_as_lists", lambda b: isinstance(b["results"][0], list)),
    ],
)
def test_wrong_shapes(omnitron: TestClient, shape: str, check: Any) -> None:
    rule(omnitron, pattern="/products/$", action="wrong_shape", shape=shape)
    assert check(body(omnitron, f"{PRODUCTS}?limit=2"))


def test_rows_without_pk(omnitron: TestClient, market: TestClient) -> None:
    rule(omnitron, pattern="/products/$", action="drop_field")
    assert all("pk" not in row for row in body(omnitron, f"{PRODUCTS}?limit=5")["results"])
    rule(omnitron, pattern="/products/$", action="drop_field", field="sku", row=1)
    rows = body(omnitron, f"{PRODUCTS}?limit=3")["results"]
    assert ["sku" in row for row in rows] == [True, False, True]
    rule(
        market,
        pattern="/orders$",
        action="drop_field",
        field="id",
        match={"number": "MKT-00000002"},
    )
    items = body(market, "/api/v1/orders?limit=3")["items"]
    assert ["id" in item for item in items] == [True, False, True]


def test_any_modified_date(omnitron: TestClient) -> None:
    for value in ("2099-01-01T00:00:00.000000Z", "yesterday", None, 17):
        rule(
            omnitron,
            pattern="/products/$",
            action="set_field",
            field="modified_date",
            value=value,
            match={"pk": 2},
        )
        rows = body(omnitron, f"{PRODUCTS}?limit=3")["results"]
        assert [r["modified_date"] == value for r in rows] == [False, True, False]


def test_shaping_leaves_errors_alone(omnitron: TestClient) -> None:
    rule(omnitron, pattern="/products/", action="repeat_next")
    assert omnitron.get(f"{PRODUCTS}?limit=10&page=300").status_code == 404
    assert omnitron.get(f"{PRODUCTS}999/").json() == {"detail": "Not found."}


def test_rules_stack_and_count_what_they_matched(omnitron: TestClient) -> None:
    response = omnitron.post(
        "/_sandbox/faults/",
        json={
            "replace": True,
            "rules": [
                {"pattern": "/products/$", "action": "ignore_page", "times": 2},
                {"pattern": "/products/$", "action": "set_field", "field": "name", "value": "X"},
            ],
        },
    )
    assert response.status_code == 200
    for _ in range(3):
        rows = body(omnitron, f"{PRODUCTS}?limit=10&page=2")["results"]
        assert {r["name"] for r in rows} == {"X"}
    rules = omnitron.get("/_sandbox/faults/").json()["rules"]
    assert [r["fired"] for r in rules] == [2, 3]
    assert rules[1]["field"] == "name" and rules[1]["value"] == "X"  # parameters are shown


# ------------------------------------------------------------------------ bounds and clear errors
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"action": "huge_body", "size_bytes": 2**31}, "size_bytes must be within"),
        ({"action": "huge_body", "size": 5}, "unknown parameter(s) ['size']"),
        ({"action": "extra_rows", "rows": 0}, "rows must be within"),
        ({"action": "trickle", "bytes_per_second": 0}, "bytes_per_second must be within"),
        ({"action": "set_field", "field": "x"}, "needs ['value']"),
        ({"action": "wrong_shape", "shape": "tree"}, "shape must be one of"),
        ({"action": "drop_field", "row": -1}, "row must be within"),
        ({"action": "delay", "delay_ms": 10**9}, "delay_ms must be within"),
        ({"action": "error", "pattern": "("}, "not a valid regular expression"),
        ({"action": "ignore_page", "params": []}, "list of 1-20"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(
    omnitron: TestClient, spec: dict[str, Any], message: str
) -> None:
    before = omnitron.get("/_sandbox/faults/").json()["rules"]
    response = omnitron.post("/_sandbox/faults/", json={"rules": [{"pattern": "x", **spec}]})
    assert response.status_code == 400 and message in response.json()["detail"]
    assert omnitron.get("/_sandbox/faults/").json()["rules"] == before  # nothing added


def test_the_marketplace_refuses_bad_rules_in_its_own_shape(market: TestClient) -> None:
    response = market.post("/_sandbox/faults/rules/", json={"action": "trickle", "speed": 1})
    assert response.status_code == 400
    assert "unknown parameter(s)" in response.json()["error"]["message"]


def test_cli_flags_take_both_forms() -> None:
    config = FaultConfig()
    config.add(parse_rule_flag("pattern=/products/,action=ignore_page,params=page|offset"))
    config.add(parse_rule_flag("pattern=/orders,action=huge_body,size_bytes=2048,chunked=true"))
    config.add(
        parse_rule_flag('{"pattern": "/x", "action": "set_field", "field": "f", "value": 1}')
    )
    first, second, third = config.rules
    assert first.params == {"params": ["page", "offset"]}
    assert second.params == {"size_bytes": 2048, "chunked": True}
    assert third.params["value"] == 1
    with pytest.raises(ValueError, match="not key=value"):
        parse_rule_flag("pattern")
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_rule_flag("{nope")


def test_shaping_rules_do_not_stop_a_later_terminal_rule() -> None:
    config = FaultConfig()
    config.add({"pattern": "/p", "action": "set_field", "field": "a", "value": 1})
    config.add({"pattern": "/p", "action": "trickle", "bytes_per_second": 10})
    config.add({"pattern": "/p", "action": "error", "status": 503})
    plan = config.plan("GET", "/api/p")
    assert [r.action for r in plan.shapers] == ["set_field"]
    assert plan.bytes_per_second == 10
    assert isinstance(plan.terminal, FaultRule) and plan.terminal.action == "error"
