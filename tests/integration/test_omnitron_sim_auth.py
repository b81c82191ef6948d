"""Contract: login, token auth and the product list over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=25, seed=7) as running:
        yield running


def test_login_returns_40_hex_key(sim: OmnitronSim) -> None:
    key = sim.login()
    assert len(key) == 40
    int(key, 16)


def test_bad_credentials_are_400_non_field_errors(sim: OmnitronSim) -> None:
    status, body = sim.call("POST", "/api/v1/auth/login/", {"username": "sandbox", "password": "x"})
    assert status == 400
    assert "non_field_errors" in body


def test_calls_without_or_with_bad_token_are_401(sim: OmnitronSim) -> None:
    status, body = sim.call("GET", "/api/v1/products/")
    assert status == 401 and "detail" in body
    status, body = sim.call("GET", "/api/v1/products/", token="0" * 40)
    assert status == 401 and "detail" in body


def test_active_user_accepts_valid_token(sim: OmnitronSim) -> None:
    assert sim.call("GET", "/api/v1/active_user/", token=sim.login())[0] == 200


def test_product_list_is_paginated_to_the_end(sim: OmnitronSim) -> None:
    token = sim.login()
    seen: list[int] = []
    page = 1
    while True:
        status, body = sim.call(
            "GET", f"/api/v1/channel/1/products/?page={page}&limit=7", token=token
        )
        assert status == 200
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 25
        seen += [row["pk"] for row in body["results"]]
        if body["next"] is None:
            break
        page += 1
    assert seen == list(range(1, 26))
    assert page == 4
