"""The conformance report and recorder on their own (no simulator, no marketplace): a check
that ran nothing is skipped, never passed, and each call is checked where it is made."""

from __future__ import annotations

from typing import Any

from channel_app_template.channel import (
    ChannelIntegration,
    ProductBatchRequestResponseDto,
    ResponseStatus,
)
from channel_app_template.channel_modules import own_marketplace
from channel_app_template.kit.conformance import CHECKS, ConformanceReport
from channel_app_template.kit.conformance._recorder import Recorder


class Item:
    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.remote_id = None


def test_a_check_that_ran_nothing_is_skipped_not_passed() -> None:
    report = ConformanceReport("shop")
    assert list(report.results) == list(CHECKS)
    assert report.results["get_orders"].status == "skipped"
    assert report.results["get_orders"].reason.endswith("nothing in this run reached it")
    report.idle("get_orders", "it returned nothing")
    assert report.results["get_orders"].reason == "get_orders: it returned nothing"
    report.ran("get_orders")
    assert report.results["get_orders"].status == "passed" and report.ok
    report.fail("get_orders", "returned different orders")
    assert report.results["get_orders"].reason == "get_orders: returned different orders"
    assert not report.ok and "FAILED   get_orders" in report.format()


def test_the_recorder_fails_a_send_that_drops_a_row() -> None:
    def send(items: list[Any]) -> list[ProductBatchRequestResponseDto]:
        return [
            ProductBatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku, remote_id="r")
            for i in items[1:]
        ]

    class Channel:
        send_inserted_products = staticmethod(send)

    report = ConformanceReport("shop")
    channel = Channel()
    Recorder(report, ChannelIntegration).instrument(channel, {"send_inserted_products"})
    channel.send_inserted_products([Item("a"), Item("b")])
    reason = report.results["send_inserted_products"].reason
    assert reason.startswith("send_inserted_products: no result row")
    assert "1 of 2 items: ['a']" in reason


def test_a_module_without_a_hook_has_no_own_marketplace() -> None:
    assert own_marketplace("channel_app_template.channel_modules") is None
