"""Contract: batch-request state machine and the inserts/updates/deleted views it drives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
B = "/channel/1/batch_requests/"


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed=11) as running:
        yield running


@pytest.fixture
def api(sim: OmnitronSim) -> ApiClient:
    sim.call("POST", "/_sandbox/reset/", {"seed_products": 30})
    return sim.client()


def new_batch(api: ApiClient) -> dict[str, Any]:
    batch = api.ok("POST", B, {"channel": 1})
    assert batch["status"] == "initialized" and batch["content_type"] is None
    assert len(batch["local_batch_id"]) == 36
    return batch


def move(api: ApiClient, batch: dict[str, Any], status: str, **extra: Any) -> tuple[int, Any]:
    return api.patch(f"{B}{batch['pk']}/", {"channel": 1, "status": status, **extra})


def objects(
    rows: list[dict[str, Any]], model: str = "product", **extra: Any
) -> list[dict[str, Any]]:
    return [
        {
            "pk": r["pk"],
            "content_type": model,
            "version_date": r["modified_date"],
            "remote_id": None,
            "failed_reason_type": None,
            **extra,
        }
        for r in rows
    ]


def inserts(api: ApiClient, path: str = "/channel/1/products/inserts/") -> list[int]:
    return [r["pk"] for r in api.all_pages(path)]


LEGAL = [
    ["commit", "commit", "sent_to_remote", "ongoing", "ongoing", "done"],
    ["commit", "done"],
    ["commit", "fail"],
    ["done"],
    ["fail"],
    ["commit", "sent_to_remote", "done"],
    ["commit", "sent_to_remote", "fail"],
    ["commit", "sent_to_remote", "ongoing", "fail"],
]
ILLEGAL = [
    ([], "sent_to_remote"),
    ([], "ongoing"),
    (["commit"], "ongoing"),
    (["commit", "sent_to_remote"], "commit"),
    (["commit", "sent_to_remote"], "sent_to_remote"),
    (["commit", "sent_to_remote", "ongoing"], "commit"),
    (["commit", "sent_to_remote", "ongoing"], "sent_to_remote"),
    (["done"], "done"),
    (["done"], "commit"),
    (["done"], "fail"),
    (["fail"], "fail"),
    (["fail"], "done"),
    (["fail"], "commit"),
    ([], "initialized"),
    (["commit"], "initialized"),
]


@pytest.mark.parametrize("path", LEGAL, ids=lambda p: "-".join(p))
def test_legal_transitions(api: ApiClient, path: list[str]) -> None:
    batch = new_batch(api)
    for status in path:
        extra: dict[str, Any] = {"content_type": "product", "objects": []}
        if status == "sent_to_remote":
            extra = {"remote_batch_id": "remote-42"}
        code, body = move(api, batch, status, **extra)
        assert code == 200, (status, body)
        assert body["status"] == status
    if "sent_to_remote" in path:
        assert body["remote_batch_id"] == "remote-42"


@pytest.mark.parametrize(
    ("path", "wanted"), ILLEGAL, ids=lambda v: "-".join(v) if isinstance(v, list) else v
)
def test_illegal_transitions_are_406(api: ApiClient, path: list[str], wanted: str) -> None:
    batch = new_batch(api)
    for status in path:
        assert move(api, batch, status, content_type="product", objects=[])[0] == 200
    code, body = move(api, batch, wanted, content_type="product", objects=[])
    assert code == 406
    assert "batch_request_status_100_1" in str(body)


def test_unknown_status_and_content_type_are_400(api: ApiClient) -> None:
    batch = new_batch(api)
    assert move(api, batch, "bogus")[0] == 400
    assert move(api, batch, "commit", content_type="nothing", objects=[])[0] == 400


def test_one_committed_batch_per_content_type(api: ApiClient) -> None:
    first, second, third = new_batch(api), new_batch(api), new_batch(api)
    assert move(api, first, "commit", content_type="product", objects=[])[0] == 200
    code, body = move(api, second, "commit", content_type="product", objects=[])
    assert code == 406 and "code" in body
    assert move(api, third, "commit", content_type="productprice", objects=[])[0] == 200
    assert move(api, first, "sent_to_remote", remote_batch_id="r")[0] == 200
    assert move(api, second, "commit", content_type="product", objects=[])[0] == 200


def test_commit_locks_done_settles_and_updates_follow(api: ApiClient) -> None:
    rows = api.ok("GET", "/channel/1/products/inserts/?product_type=0&limit=5")["results"]
    assert [r["pk"] for r in rows] == [1, 2, 3, 4, 5]
    batch = new_batch(api)
    assert move(api, batch, "commit", content_type="product", objects=objects(rows))[0] == 200
    assert not {1, 2, 3, 4, 5} & set(inserts(api))
    locked = api.all_pages(
        f"/channel/1/integration_actions/?local_batch_id="
        f"{batch['local_batch_id']}&status=processing&sort=id"
    )
    assert [(a["content_type"]["model"], a["object_id"]) for a in locked] == [
        ("product", pk) for pk in (1, 2, 3, 4, 5)
    ]
    outcome = objects(rows[:3]) + objects(rows[3:4], failed_reason_type="remote")
    for item, remote in zip(outcome, ("R1", "R2", "R3", None), strict=True):
        item["remote_id"] = remote
    code, body = move(api, batch, "done", objects=outcome)
    assert code == 200 and body["status"] == "done"
    actions = {a["object_id"]: a for a in api.all_pages("/channel/1/integration_actions/")}
    assert actions[1]["status"] == "success" and actions[1]["remote_id"] == "R1"
    assert actions[1]["version_date"] == rows[0]["modified_date"]
    assert actions[4]["status"] == "error"
    assert 5 not in actions  # neither remote id nor failure: released back to inserts
    assert {5} <= set(inserts(api)) and not {1, 2, 3, 4} & set(inserts(api))
    assert inserts(api, "/channel/1/products/updates/") == []
    api.ok("PATCH", "/products/2/", {"name": "renamed"})
    assert inserts(api, "/channel/1/products/updates/") == [2]
    both = inserts(api, "/channel/1/products/inserts_or_updates/")
    assert 2 in both and 5 in both and 1 not in both
    # a failed first send comes back as an insert once the product changes
    api.ok("PATCH", "/products/4/", {"name": "fixed"})
    assert 4 in inserts(api)
    # swallowed 406 when moving to done twice
    assert move(api, batch, "done", objects=[])[0] == 406


def test_fail_releases_the_lock(api: ApiClient) -> None:
    rows = api.ok("GET", "/channel/1/products/inserts/?limit=3")["results"]
    batch = new_batch(api)
    move(api, batch, "commit", content_type="product", objects=objects(rows))
    assert not {r["pk"] for r in rows} & set(inserts(api))
    assert move(api, batch, "fail", objects=None)[0] == 200
    assert {r["pk"] for r in rows} <= set(inserts(api))
    assert (
        api.ok("GET", f"/channel/1/integration_actions/?local_batch_id={batch['local_batch_id']}")[
            "count"
        ]
        == 0
    )


def test_async_flow_polled_by_status(api: ApiClient) -> None:
    rows = api.ok("GET", "/channel/1/products/inserts/?limit=2")["results"]
    batch = new_batch(api)
    move(api, batch, "commit", content_type="product", objects=objects(rows))
    move(api, batch, "sent_to_remote", remote_batch_id="job-1")
    polled = api.ok(
        "GET", f"{B}?status=sent_to_remote&status=ongoing&content_type=product&channel=1"
    )
    assert [b["pk"] for b in polled["results"]] == [batch["pk"]]
    move(api, batch, "ongoing")
    polled = api.ok("GET", f"{B}?status=sent_to_remote&status=ongoing&content_type=product")
    assert polled["results"][0]["status"] == "ongoing"
    done = [dict(o, remote_id=f"R{o['pk']}") for o in objects(rows)]
    assert move(api, batch, "done", objects=done)[0] == 200
    assert api.ok("GET", f"{B}?status=ongoing")["count"] == 0


def sync_products(api: ApiClient, pks: list[int]) -> None:
    rows = api.ok("GET", f"/channel/1/products/?pk__in={','.join(map(str, pks))}&limit=100")
    batch = new_batch(api)
    objs = objects(rows["results"])
    move(api, batch, "commit", content_type="product", objects=objs)
    move(api, batch, "done", objects=[dict(o, remote_id=f"R{o['pk']}") for o in objs])


def test_price_stock_image_inserts_wait_for_product(api: ApiClient) -> None:
    assert inserts(api, "/channel/1/product_prices/inserts/") == []
    sync_products(api, [1, 2])
    prices = api.all_pages("/channel/1/product_prices/inserts/")
    assert sorted(p["product"] for p in prices) == [1, 2]
    assert {p["price_list"] for p in prices} == {1}
    extra = api.all_pages("/channel/1/extra_product_prices/inserts/?price_list=2")
    assert {p["price_list"] for p in extra} == {2} and len(extra) == 2
    stocks = api.all_pages("/channel/1/product_stocks/inserts/")
    assert sorted(s["product"] for s in stocks) == [1, 2]
    assert len(api.all_pages("/channel/1/extra_product_stocks/inserts/?stock_list=2")) == 2
    assert len(api.all_pages("/channel/1/product_images/inserts/")) == 2
    batch = new_batch(api)
    objs = objects(prices, model="productprice")
    move(api, batch, "commit", content_type="productprice", objects=objs)
    assert api.all_pages("/channel/1/product_prices/inserts/") == []
    move(api, batch, "done", objects=[dict(o, remote_id="R") for o in objs])
    api.ok("PATCH", f"/product_prices/{prices[0]['pk']}/", {"price": "99.90"})
    updated = api.all_pages("/channel/1/product_prices/updates/")
    assert [(p["pk"], p["price"]) for p in updated] == [(prices[0]["pk"], "99.90")]


def test_deleted_view_and_deletion_batch(api: ApiClient) -> None:
    sync_products(api, [7, 8])
    assert api.delete("/products/7/")[0] == 204
    deleted = api.ok(
        "GET", "/channel/1/integration_actions/deleted/?model=product&channel_id=1&limit=100"
    )["results"]
    assert [(d["object_id"], d["remote_id"]) for d in deleted] == [(7, "R7")]
    batch = new_batch(api)
    lock = [
        {
            "pk": deleted[0]["pk"],
            "content_type": "integrationaction",
            "version_date": deleted[0]["modified_date"],
            "remote_id": None,
            "failed_reason_type": None,
        }
    ]
    move(api, batch, "commit", content_type="integrationaction", objects=lock)
    assert api.ok("GET", "/channel/1/integration_actions/deleted/?model=product")["count"] == 0
    assert api.delete(f"/channel/1/integration_actions/{deleted[0]['pk']}/")[0] == 204
    move(api, batch, "done", objects=[dict(lock[0], remote_id="R7")])
    assert api.ok("GET", "/channel/1/integration_actions/deleted/?model=product")["count"] == 0


def test_integration_action_crud_and_filters(api: ApiClient) -> None:
    created = api.ok(
        "POST",
        "/channel/1/integration_actions/",
        {
            "channel_id": 1,
            "content_type": "categorynode",
            "object_id": 3,
            "remote_id": "C3",
            "version_date": "2024-02-01T00:00:00.000000Z",
            "state": {"x": 1},
        },
    )
    assert created["content_type"]["model"] == "categorynode"
    ct = created["content_type"]["id"]
    assert (
        400
        <= api.post(
            "/channel/1/integration_actions/",
            {"channel_id": 1, "content_type_id": ct, "object_id": 3, "remote_id": "dup"},
        )[0]
        < 500
    )
    patched = api.ok(
        "PATCH",
        f"/channel/1/integration_actions/{created['pk']}/",
        {"content_type_id": ct, "version_date": "2024-03-01T00:00:00.000000Z"},
    )
    assert patched["version_date"] == "2024-03-01T00:00:00.000000Z"
    for query in (
        "content_type_name=categorynode",
        "remote_id__exact=C3",
        "remote_id__in=C3,X",
        "object_id=3&channel=1",
        "object_id__in=3,4",
        "channel_id=1&sort=version_date",
    ):
        rows = api.ok("GET", f"/channel/1/integration_actions/?{query}")["results"]
        assert created["pk"] in [r["pk"] for r in rows], query
    assert api.delete(f"/channel/1/integration_actions/{created['pk']}/")[0] == 204
    assert api.get(f"/channel/1/integration_actions/{created['pk']}/")[0] == 404


PENDING = [
    "/channel/1/products/inserts/",
    "/channel/1/product_stocks/inserts/",
    "/channel/1/product_prices/inserts/",
    "/channel/1/product_images/inserts/",
]


@pytest.mark.parametrize("path", PENDING)
def test_pending_views_read_by_pk_cursor(api: ApiClient, path: str) -> None:
    """The engine walks pending views with ``pk__gt``/``pk__lte`` and ``sort=id``."""
    sync_products(api, [1, 2, 3, 4, 5, 6])
    everything = [r["pk"] for r in api.all_pages(f"{path}?sort=id")]
    assert len(everything) >= 6 and everything == sorted(everything)
    walked: list[int] = []
    after = 0
    while True:
        page = api.ok("GET", f"{path}?sort=id&limit=2&pk__gt={after}")["results"]
        if not page:
            break
        walked += [r["pk"] for r in page]
        after = page[-1]["pk"]
    assert walked == everything
    bound = everything[3]
    window = api.ok("GET", f"{path}?sort=id&pk__gt={everything[0]}&pk__lte={bound}&limit=50")
    assert [r["pk"] for r in window["results"]] == everything[1:4]
    assert window["count"] == 3


def test_commit_of_repeated_and_errored_objects_then_fail_restores_them(api: ApiClient) -> None:
    rows = api.ok("GET", "/channel/1/products/?pk__in=1,2&limit=10")["results"]
    first = new_batch(api)
    move(api, first, "commit", content_type="product", objects=objects(rows))
    move(api, first, "done", objects=objects(rows[:1], failed_reason_type="remote"))
    actions = {a["object_id"]: a for a in api.all_pages("/channel/1/integration_actions/")}
    assert actions[1]["status"] == "error" and 2 not in actions
    second = new_batch(api)
    repeated = objects(rows) + objects(rows[:1], remote_id="R-again")
    assert move(api, second, "commit", content_type="product", objects=repeated)[0] == 200
    locked = {a["object_id"]: a for a in api.all_pages("/channel/1/integration_actions/")}
    assert locked[1]["status"] == "processing" and locked[1]["remote_id"] == "R-again"
    assert locked[2]["status"] == "processing" and locked[2]["remote_id"] is None
    assert move(api, second, "fail", objects=None)[0] == 200
    after = {a["object_id"]: a for a in api.all_pages("/channel/1/integration_actions/")}
    assert after[1]["status"] == "error" and 2 not in after


def test_integration_action_list_shows_content_object_only_while_it_exists(
    api: ApiClient,
) -> None:
    sync_products(api, [3, 4, 5])
    assert api.delete("/products/4/")[0] == 204
    listed = api.all_pages("/channel/1/integration_actions/?content_type_name=product&sort=id")
    by_object = {a["object_id"]: a["content_object"] for a in listed}
    assert by_object == {3: {"pk": 3}, 4: None, 5: {"pk": 5}}
    one = api.ok("GET", f"/channel/1/integration_actions/{listed[1]['pk']}/")
    assert one["content_object"] is None and one == listed[1]
