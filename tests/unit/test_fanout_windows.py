"""How a fanned-out send is cut into pk windows and its window summaries merged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from channel_app_template.akinon.pagination import Paginated
from channel_app_template.core.engine.resources import RESOURCES
from channel_app_template.core.run.fanout import (
    MAX_WINDOWS,
    Window,
    WindowOrder,
    boundaries,
    fans_out,
    merge_summaries,
    window_size,
    windows_of,
)


class Row(BaseModel):
    pk: int


def pending_view(pks: list[int], asked: list[dict[str, Any]]) -> Paginated[Row]:
    def fetch(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(dict(params))
        page, limit = int(params["page"]), int(params["limit"])
        rows = [{"pk": pk} for pk in pks[(page - 1) * limit : page * limit]]
        more = page * limit < len(pks)
        return {"count": len(pks), "next": "more" if more else None, "results": rows}

    return Paginated(fetch, Row, {}, page_size=100)


def test_windows_are_open_at_both_ends_and_cover_every_pk() -> None:
    windows = windows_of([30, 10, 20, 20])
    assert windows == [
        Window(0, None, 10),
        Window(1, 10, 20),
        Window(2, 20, 30),
        Window(3, 30, None),
    ]
    for pk in (-5, 1, 10, 11, 20, 29, 30, 31, 10**9):
        inside = [
            w
            for w in windows
            if (w.after is None or pk > w.after) and (w.upto is None or pk <= w.upto)
        ]
        assert len(inside) == 1, pk


def test_no_edges_is_one_window_of_everything() -> None:
    assert windows_of([]) == [Window(0, None, None)]


def test_boundaries_read_one_row_per_edge_at_every_window_size() -> None:
    pks = list(range(5, 5 + 3 * 1050, 3))  # 1050 sparse pks
    asked: list[dict[str, Any]] = []
    edges = boundaries(pending_view(pks, asked), len(pks), 250)
    assert edges == [pks[249], pks[499], pks[749], pks[999]]
    assert all(params["limit"] == 1 and params["sort"] == "id" for params in asked)
    assert len(asked) == 4
    windows = windows_of(edges)
    sizes = [
        sum(
            1
            for pk in pks
            if (w.after is None or pk > w.after) and (w.upto is None or pk <= w.upto)
        )
        for w in windows
    ]
    assert sizes == [250, 250, 250, 250, 50]


def test_window_size_grows_so_no_run_has_more_than_max_windows() -> None:
    assert window_size(10_000, 5_000) == 5_000
    assert window_size(10**8, 5_000) * MAX_WINDOWS >= 10**8
    assert window_size(10**8, 5_000) == 10**8 // MAX_WINDOWS


def test_only_catalog_objects_in_inserts_or_updates_fan_out() -> None:
    assert fans_out(RESOURCES["products"], "inserts")
    assert fans_out(RESOURCES["stocks"], "updates")
    assert not fans_out(RESOURCES["products"], "check")
    assert not fans_out(RESOURCES["orders"], "updates")


def test_window_orders_survive_the_broker() -> None:
    order = WindowOrder("run", "catalog:product", "tok", "products", "inserts", None, 2, 10, 20, 99)
    assert WindowOrder.from_dict(order.as_dict()) == order
    assert order.window.after == 10 and order.window.upto == 20
    assert order.claim == "fanout:run:2"


def test_window_summaries_merge_into_one_for_the_run() -> None:
    merged = merge_summaries(
        "products",
        "inserts",
        [
            {"flow": "products", "kind": "inserts", "sent": 3, "batches": [1, 2]},
            {"flow": "products", "kind": "inserts", "sent": 4, "failed": 1, "batches": [3]},
            {"flow": "products", "kind": "inserts", "stopped": "budget"},
        ],
    )
    assert merged == {
        "flow": "products",
        "kind": "inserts",
        "sent": 7,
        "failed": 1,
        "batches": [1, 2, 3],
        "stopped": "budget",
        "windows": 3,
    }
