"""The resource-shaped channel contract: what a channel implements is what it supports,
``upserts`` lets one method serve inserts and updates, the config model is the class's type
argument, and Akinon's command names keep working both ways (old-name integrations, and
old-name callers of new-name integrations)."""

from __future__ import annotations

import logging
import textwrap
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from mypy import api as mypy_api

from channel_app_template.akinon.models import Order, OrderItem, Product, ProductStock
from channel_app_template.channel import (
    BatchRequestResponseDto,
    ChannelConfig,
    ChannelCreateOrderDto,
    ChannelIntegration,
    DeletedItem,
    IntegrationContext,
    MalformedOrderDto,
    OrderBatchRequestResponseDto,
    OrderUpdateItem,
    ProductBatchRequestResponseDto,
    ProductItem,
    ResponseStatus,
    StockItem,
    Submitted,
    UnsupportedCommand,
    describe,
    not_implemented,
)
from channel_app_template.channel.commands import COMMANDS

REPO = Path(__file__).resolve().parents[2]


class ShopConfig(ChannelConfig):
    api_url: str = "http://shop.test"


def rows(items: Sequence[ProductItem], tag: str) -> list[ProductBatchRequestResponseDto]:
    return [
        ProductBatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku, remote_id=tag)
        for i in items
    ]


class Shop(ChannelIntegration[ShopConfig]):
    """New names: an upsert marketplace for products and stocks, and orders."""

    upserts = True
    unsupported: ClassVar[Mapping[str, str]] = {
        "send_deleted_products": "the marketplace keeps products forever"
    }

    def __init__(self, config: ShopConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        self.calls: list[str] = []

    def check_connection(self) -> None:
        return None

    def send_products(self, items: Sequence[ProductItem]) -> Submitted:
        self.calls.append("send_products")
        return Submitted(remote_batch_id="job-1")

    def check_products(self, remote_batch_id: str) -> list[ProductBatchRequestResponseDto]:
        return rows([ProductItem(obj=Product(pk=1), sku="A")], remote_batch_id)

    def send_stocks(self, items: Sequence[StockItem]) -> list[BatchRequestResponseDto]:
        self.calls.append(f"send_stocks {[i.stock_list for i in items]}")
        return [BatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku) for i in items]

    def get_orders(self) -> Iterator[ChannelCreateOrderDto | MalformedOrderDto]:
        yield MalformedOrderDto(number="N-1", message="unreadable")

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        self.calls.append(f"acknowledge_orders {list(remote_ids)}")

    def update_orders(self, items: Sequence[OrderUpdateItem]) -> list[OrderBatchRequestResponseDto]:
        return [
            OrderBatchRequestResponseDto(
                status=ResponseStatus.SUCCESS, number=i.sku, remote_id=str(len(i.items))
            )
            for i in items
        ]


class LegacyShop(ChannelIntegration):
    """Old names, as integrations were written before the contract (and as they still load)."""

    config_model = ShopConfig
    unsupported: ClassVar[Mapping[str, str]] = {"check_products": "synchronous"}

    def __init__(self, config: ChannelConfig, context: IntegrationContext) -> None:
        super().__init__(config, context)
        assert isinstance(config, ShopConfig)
        self.conf = config

    def check_connection(self) -> None:
        return None

    def send_inserted_products(self, items: Sequence[ProductItem]) -> list[Any]:
        return rows(items, self.conf.api_url)

    send_updated_products = send_inserted_products

    def send_deleted_products(self, items: Sequence[DeletedItem]) -> list[Any]:
        return rows([ProductItem(obj=Product(pk=1), sku=i.sku) for i in items], "gone")


def context() -> IntegrationContext:
    return IntegrationContext(1, 1, logging.getLogger("tests.contract"))


def product(sku: str, remote_id: str | None = None) -> ProductItem:
    return ProductItem(obj=Product(pk=1, sku=sku), sku=sku, remote_id=remote_id)


# --- What is supported is what is implemented -------------------------------------------


def test_supported_is_derived_from_the_methods_written() -> None:
    assert Shop.supported_commands() == [
        "get_channel_conf_schema",
        "send_inserted_products",
        "send_updated_products",  # upserts: served by send_products
        "check_products",
        "send_inserted_stocks",
        "send_updated_stocks",
        "get_orders",
        "acknowledge_orders",
        "send_updated_orders",  # served by update_orders
    ]
    described = describe(Shop)
    assert set(described["supported"]) | set(described["unsupported"]) == set(COMMANDS)
    assert described["unsupported"]["send_deleted_products"] == (
        "the marketplace keeps products forever"
    )  # a reason, shown to operators
    assert described["unsupported"]["send_inserted_prices"] == "not implemented"


def test_a_scaffold_stub_is_unsupported_until_written() -> None:
    class Stubbed(ChannelIntegration):
        upserts = True
        not_implemented_reason = "not implemented yet"

        def check_connection(self) -> None:
            return None

        @not_implemented
        def send_products(self, items: Sequence[ProductItem]) -> Submitted:
            raise NotImplementedError

    assert not Stubbed.supports("send_inserted_products")
    assert not Stubbed.supports("send_updated_products")
    assert describe(Stubbed)["unsupported"]["send_updated_products"] == "not implemented yet"
    with pytest.raises(UnsupportedCommand, match="send_products"):
        Stubbed(ChannelConfig(), context()).send_inserted_products([product("A")])


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown command"):
        Shop.supports("send_inserted_product")


# --- upserts -----------------------------------------------------------------------------


def test_upserts_lets_one_method_serve_inserts_and_updates() -> None:
    shop = Shop(ShopConfig(), context())
    shop.send_inserted_products([product("A")])
    shop.send_updated_products([product("A", remote_id="R-A")])
    stock = StockItem(obj=ProductStock(pk=2, stock=3), sku="A", remote_id="R-A", stock_list=7)
    shop.send_updated_stocks([stock])
    assert shop.calls == ["send_products", "send_products", "send_stocks [7]"]


def test_without_upserts_updates_need_their_own_method() -> None:
    class CreateOnly(Shop):
        upserts = False

    class Separate(CreateOnly):
        def update_products(self, items: Sequence[ProductItem]) -> Submitted:
            return Submitted(remote_batch_id="update-job")

    assert CreateOnly.supports("send_inserted_products")
    assert not CreateOnly.supports("send_updated_products")
    with pytest.raises(UnsupportedCommand, match="send_updated_products"):
        CreateOnly(ShopConfig(), context()).send_updated_products([product("A", "R-A")])
    assert Separate.supports("send_updated_products")
    answer = Separate(ShopConfig(), context()).send_updated_products([product("A", "R-A")])
    assert answer == Submitted(remote_batch_id="update-job")


# --- The config model the integration is generic over ------------------------------------


def test_the_config_model_is_the_type_argument() -> None:
    assert Shop.config_model is ShopConfig
    assert LegacyShop.config_model is ShopConfig  # set explicitly, as before
    assert ChannelIntegration.config_model is ChannelConfig

    class Explicit(ChannelIntegration[ShopConfig]):
        config_model = ShopConfig

        def check_connection(self) -> None:
            return None

    assert Explicit.config_model is ShopConfig
    shop = Shop(ShopConfig(api_url="http://x.test"), context())
    assert shop.config.api_url == "http://x.test"


def test_self_config_is_typed_without_a_cast(tmp_path: Path) -> None:
    source = tmp_path / "typed_channel.py"
    source.write_text(
        textwrap.dedent(
            """
            from channel_app_template.channel import ChannelConfig, ChannelIntegration

            class AcmeConfig(ChannelConfig):
                api_url: str

            class Acme(ChannelIntegration[AcmeConfig]):
                def check_connection(self) -> None:
                    url: str = self.config.api_url
                    self.config.no_such_setting
            """
        )
    )
    out, _, status = mypy_api.run(
        ["--strict", "--no-incremental", "--follow-imports=silent", str(source)]
    )
    assert status == 1, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and '"AcmeConfig" has no attribute "no_such_setting"' in errors[0]


# --- Akinon's command names: the compatibility layer -------------------------------------


def test_a_channel_written_with_the_old_names_still_works() -> None:
    assert LegacyShop.supported_commands() == [
        "get_channel_conf_schema",
        "send_inserted_products",
        "send_updated_products",
        "send_deleted_products",
    ]
    assert describe(LegacyShop)["unsupported"]["check_products"] == "synchronous"
    shop = LegacyShop(ShopConfig(api_url="u"), context())
    assert [r.remote_id for r in shop.send_updated_products([product("A", "R")])] == ["u"]
    deleted = DeletedItem(obj=None, sku="A", remote_id="R")  # type: ignore[arg-type]
    assert [r.remote_id for r in shop.send_deleted_products([deleted])] == ["gone"]


def test_an_old_stub_listed_as_unsupported_stays_unsupported_and_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class OldScaffold(ChannelIntegration):
            unsupported: ClassVar[Mapping[str, str]] = {"get_orders": "not implemented yet"}

            def check_connection(self) -> None:
                return None

            def get_orders(self) -> list[ChannelCreateOrderDto]:
                raise self._unsupported("get_orders")

    assert not OldScaffold.supports("get_orders")
    assert [w.category for w in caught] == [DeprecationWarning]
    assert "implements get_orders but lists them in 'unsupported'" in str(caught[0].message)


def test_a_new_name_channel_answers_the_old_name_callers() -> None:
    shop = Shop(ShopConfig(), context())
    assert shop.send_inserted_products([product("A")]) == Submitted(remote_batch_id="job-1")
    assert [r.remote_id for r in shop.check_products("job-1") or []] == ["job-1"]
    orders = list(shop.get_orders())
    assert isinstance(orders[0], MalformedOrderDto)
    shop.acknowledge_orders(["O-1"])
    update = OrderUpdateItem(
        obj=Order(pk=1, number="N-1"),
        sku="N-1",
        remote_id="O-1",
        items=(OrderItem(pk=5, status="500"),),
        item_remote_ids={5: "L-1"},
    )
    assert [r.remote_id for r in shop.send_updated_orders([update])] == ["1"]
    with pytest.raises(UnsupportedCommand, match="send_inserted_prices"):
        shop.send_inserted_prices([])


# --- Typed items -------------------------------------------------------------------------


def test_typed_item_fields_and_the_deprecated_extra_agree() -> None:
    typed = OrderUpdateItem(
        obj=Order(pk=1, number="N"), sku="N", items=(OrderItem(pk=5),), item_remote_ids={5: "L"}
    )
    assert typed.extra == {"items": typed.items, "item_remote_ids": {5: "L"}}
    legacy = OrderUpdateItem(
        obj=Order(pk=1, number="N"), sku="N", extra={"items": [OrderItem(pk=6)], "x": 1}
    )
    assert [i.pk for i in legacy.items] == [6] and legacy.extra["x"] == 1
    stock = StockItem(obj=ProductStock(pk=1), sku="A", extra={"stock_list": 4})
    assert stock.stock_list == 4


def test_product_carries_names_what_may_ride_with_a_product() -> None:
    class Carrying(ChannelIntegration):
        product_carries = frozenset({"stocks", "prices", "images"})

        def check_connection(self) -> None:
            return None

    assert Carrying.product_carries == {"stocks", "prices", "images"}
    assert ChannelIntegration.product_carries == frozenset()  # nothing rides by default

    with pytest.raises(TypeError, match="'orders' cannot ride with a product"):

        class Unknown(ChannelIntegration):
            product_carries = frozenset({"stocks", "orders"})

    with pytest.raises(TypeError, match="a set of names, not the string 'stocks'"):

        class Text(ChannelIntegration):
            product_carries = "stocks"  # type: ignore[assignment]
