"""A merchant changes a stock and a price in Omnitron, through the simulator's normal API (the
ERP upsert and the edit by pk), and the next runs carry exactly those changes to the
marketplace, recording the edited objects' ``modified_date`` as ``version_date``.

Real processes: Redis, both simulators and a Celery worker running the project's tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.sync_stack import SyncStack, sync_stack

pytestmark = pytest.mark.integration
PRODUCTS = 12


def action(stack: SyncStack, model: str, object_id: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = stack.omnitron.inspect(
        f"integration_actions/?model={model}&object_id={object_id}"
    )["results"]
    assert len(rows) == 1, rows
    return rows[0]


def sent(summary: dict[str, Any]) -> bool:
    return any("batches" in run for run in summary["runs"])


@pytest.fixture(scope="module")
def synced() -> Iterator[SyncStack]:
    with sync_stack(PRODUCTS) as stack:
        for task in (
            "update_channel_conf_schema",
            "create_or_update_category_tree_and_nodes",
            "create_or_update_category_attributes",
        ):
            stack.run(task)
        stack.run("insert_and_update_products")
        stack.until_settled("products")
        stack.run("insert_and_update_stocks")
        stack.run("insert_and_update_prices")
        yield stack


def test_a_stock_and_a_price_edited_through_the_api_reach_the_marketplace(
    synced: SyncStack,
) -> None:
    stack = synced
    omnitron = stack.omnitron.client()
    product = omnitron.ok("GET", "/products/?sku=SKU-0000005")["results"][0]
    assert not sent(stack.run("insert_and_update_stocks"))  # nothing pending before the edits

    stock = omnitron.set_stock(product["sku"], 37)  # the ERP's upsert (/api/i1/product_stock/)
    price_row = omnitron.ok("GET", f"/product_price/?product={product['pk']}&price_list=1")
    price = omnitron.ok(  # an edit by pk on the price list's row (/api/v1/product_price/)
        "PATCH", f"/product_price/{price_row['results'][0]['pk']}/", {"price": "123.45"}
    )
    assert stock["modified_date"] > action(stack, "productstock", stock["pk"])["version_date"]
    assert price["modified_date"] > action(stack, "productprice", price["pk"])["version_date"]

    assert sent(stack.run("insert_and_update_stocks"))
    assert sent(stack.run("insert_and_update_prices"))

    listed = stack.market.client().get_product(product["sku"])
    assert listed is not None and listed.price is not None
    assert listed.stock == 37
    assert str(listed.price.sale_price) == "123.45"
    stock_action = action(stack, "productstock", stock["pk"])
    price_action = action(stack, "productprice", price["pk"])
    assert stock_action["status"] == price_action["status"] == "success"
    assert stock_action["version_date"] == stock["modified_date"]
    assert price_action["version_date"] == price["modified_date"]
    # only the edited objects went, and they are not sent again
    assert not sent(stack.run("insert_and_update_stocks"))
    assert not sent(stack.run("insert_and_update_prices"))
    others = stack.market.client().get_product("SKU-0000006")
    assert others is not None and others.price is not None
    assert others.stock != 37 and str(others.price.sale_price) != "123.45"
