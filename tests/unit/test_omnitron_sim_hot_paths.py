"""``HotPaths``: the short way in answers exactly as FastAPI's full stack does, and never takes
a path an earlier route would have won."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from channel_app_template.sandbox.omnitron.app import create_app, sim_from
from channel_app_template.sandbox.omnitron.hot_paths import HotPaths
from channel_app_template.sandbox.omnitron.seed import seed_catalog

CH = "/api/v1/channel/1"


def _client(app: Any, token: str | None = None) -> TestClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app, raise_server_exceptions=False)
    if token:
        client.headers["Authorization"] = f"Token {token}"
    return client


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """(through HotPaths, straight to FastAPI) over one simulator state."""
    asgi = create_app(str(tmp_path / "state.db"))
    seed_catalog(sim_from(asgi).store, 12)
    hot = _client(asgi)
    token = hot.post("/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"})
    key = token.json()["key"]
    hot.headers["Authorization"] = f"Token {key}"
    yield hot, _client(asgi.app.app, key)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{CH}/mapped_products/3/", None),
        ("GET", f"{CH}/mapped_products/999/", None),
        ("GET", "/api/v1/channel/77/mapped_products/3/", None),
        ("GET", f"{CH}/products/inserts/?limit=5&sort=id&pk__gt=4", None),
        ("GET", f"{CH}/product_stocks/inserts/?limit=5", None),
        ("GET", f"{CH}/products/?pk__in=1,2,3", None),
        ("GET", f"{CH}/products/?page=99", None),
        ("GET", f"{CH}/integration_actions/?object_id__in=1,2", None),
        ("PATCH", f"{CH}/batch_requests/1/", {"status": "nonsense"}),
        ("PATCH", f"{CH}/batch_requests/999/", {"status": "commit"}),
        ("POST", f"{CH}/batch_requests/", "not an object"),
        ("PATCH", f"{CH}/mapped_products/3/", None),
        ("POST", f"{CH}/customers/", "not an object"),
        ("POST", f"{CH}/customers/", {"first_name": "x" * 300}),
        ("GET", f"{CH}/customers/?email=nobody@example.com", None),
        ("POST", f"{CH}/addresses/", {"customer": 999}),
        ("POST", f"{CH}/create_orders/", {"order": {}}),
        ("GET", f"{CH}/orders/?number=none", None),
    ],
)
def test_hot_path_answers_as_fastapi_does(
    pair: tuple[TestClient, TestClient], method: str, path: str, body: Any
) -> None:
    hot, full = pair
    full.post(f"{CH}/batch_requests/", json={"channel": 1})
    hot_answer = hot.request(method, path, json=body)
    full_answer = full.request(method, path, json=body)
    assert hot_answer.status_code == full_answer.status_code
    assert hot_answer.content == full_answer.content
    assert hot_answer.headers.get("content-type") == full_answer.headers.get("content-type")


def test_unauthenticated_hot_path_is_refused_like_any_other(
    pair: tuple[TestClient, TestClient],
) -> None:
    hot, _ = pair
    answer = hot.get(f"{CH}/mapped_products/1/", headers={"Authorization": ""})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Token"


def test_a_path_an_earlier_route_wins_is_not_taken() -> None:
    app = FastAPI()

    async def earlier(request: Request) -> Response:
        return JSONResponse({"route": "earlier", **request.path_params})

    async def later(request: Request) -> Response:
        return JSONResponse({"route": "later"})

    app.add_route("/api/v1/channel/{cid:int}/{name}/inserts/", earlier)
    app.add_route("/api/v1/channel/{cid:int}/products/inserts/", later)
    app.add_route("/api/v1/channel/{cid:int}/mapped_products/{obj_id:int}/", later)
    hot = HotPaths(app)
    assert [r.path for r in hot.hot] == ["/api/v1/channel/{cid:int}/mapped_products/{obj_id:int}/"]
    client = _client(hot)
    assert client.get("/api/v1/channel/2/products/inserts/").json() == {
        "route": "earlier",
        "cid": 2,
        "name": "products",
    }
    assert client.get("/api/v1/channel/2/mapped_products/5/").json() == {"route": "later"}
