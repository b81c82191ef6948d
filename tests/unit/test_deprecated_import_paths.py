"""The import paths integrations used before issue 12 keep working.

``channel_app_template.core.commands``, ``.core.dto``, ``.core.errors`` and ``.core.http``
moved to ``channel``, ``errors`` and ``transport``; an integration written against the old
paths must load unchanged. Each name below is what the old module offered (frozen from it
before the move): it must resolve to the very object at its new home, and warn.
"""

from __future__ import annotations

import importlib
import warnings

import pytest

OLD_NAMES = {
    "commands": (
        "AttributeDto",
        "BatchRequestResponseDto",
        "CATALOG_COMMANDS",
        "COMMANDS",
        "CancelOrderDto",
        "CancellationRequestDto",
        "CategoryDto",
        "CategoryTreeDto",
        "ChannelAppError",
        "ChannelCancellationRequestDto",
        "ChannelConfSchemaField",
        "ChannelConfig",
        "ChannelCreateOrderDto",
        "ChannelIntegration",
        "ChannelUpdateOrderItemDto",
        "DERIVED_COMMANDS",
        "DeletedItem",
        "ImageItem",
        "IntegrationContext",
        "Limits",
        "MalformedEventDto",
        "MalformedOrderDto",
        "ORDER_COMMANDS",
        "OrderBatchRequestResponseDto",
        "OrderUpdateItem",
        "PriceItem",
        "ProductBatchRequestResponseDto",
        "ProductItem",
        "ProductResults",
        "RowResults",
        "SETUP_COMMANDS",
        "StockItem",
        "Submitted",
        "Timeouts",
        "UnsupportedCommand",
        "conf_schema_fields",
        "describe",
    ),
    "dto": (
        "AddressDto",
        "AttributeDto",
        "AttributeValueDto",
        "BatchRequestResponseDto",
        "CancelOrderDto",
        "CancellationRequestDto",
        "CategoryAttributeDto",
        "CategoryAttributeValueDto",
        "CategoryDto",
        "CategoryNode",
        "CategoryNodeDto",
        "CategoryTreeDto",
        "ChannelCancellationRequestDto",
        "ChannelConfSchemaField",
        "ChannelCreateOrderDto",
        "ChannelOrderDto",
        "ChannelUpdateOrderItemDto",
        "Code",
        "ConfDataType",
        "Currency",
        "CustomerDto",
        "DeletedItem",
        "Dto",
        "EventDto",
        "ExtraField",
        "FailedReasonType",
        "Id",
        "ImageItem",
        "IntegrationAction",
        "ItemStatus",
        "MAX_AMOUNT",
        "MAX_CODE_LENGTH",
        "MAX_EMAIL_LENGTH",
        "MAX_EXTRA_FIELD_CHARS",
        "MAX_ID_LENGTH",
        "MAX_LINE_QUANTITY",
        "MAX_MESSAGE_LENGTH",
        "MAX_NAME_LENGTH",
        "MAX_ORDER_LINES",
        "MAX_ORDER_NOTES_LENGTH",
        "MAX_ORDER_NUMBER_LENGTH",
        "MAX_ORDER_UNITS",
        "MAX_PHONE_LENGTH",
        "MAX_RATE",
        "MAX_RAW_LENGTH",
        "MAX_TEXT_LENGTH",
        "MAX_TRACKING_LENGTH",
        "MalformedEventDto",
        "MalformedOrderDto",
        "MappedProduct",
        "Money",
        "ORDER_CURRENCIES",
        "ORDER_ITEM_STATUSES",
        "Order",
        "OrderBatchRequestResponseDto",
        "OrderItemDto",
        "OrderUpdateItem",
        "PriceItem",
        "Product",
        "ProductBatchRequestResponseDto",
        "ProductDetails",
        "ProductImage",
        "ProductItem",
        "ProductPrice",
        "ProductStock",
        "Quantity",
        "Rate",
        "ResponseStatus",
        "ResultDto",
        "StockItem",
        "Submitted",
        "SyncItem",
    ),
    "errors": (
        "AmbiguousWriteError",
        "AuthenticationError",
        "ChannelAppError",
        "ConfigurationError",
        "ItemError",
        "LoginThrottled",
        "MayHaveHappened",
        "NotFoundError",
        "RateLimited",
        "RetryLater",
        "RunError",
    ),
    "http": (
        "AmbiguousWriteError",
        "Answer",
        "ApiKeyAuth",
        "Auth",
        "AuthenticationError",
        "BearerAuth",
        "Classify",
        "ClassifyHook",
        "ConfigurationError",
        "DEFAULT_DEADLINE",
        "DEFAULT_MAX_PAGES",
        "DEFAULT_MAX_RESPONSE_BYTES",
        "DeadlineExceeded",
        "HttpClient",
        "IDEMPOTENT_METHODS",
        "Intercept",
        "ItemError",
        "Limits",
        "MAX_DEADLINE",
        "MAX_ERROR_BODY",
        "MAX_PAGES_BOUND",
        "MAX_RESPONSE_BYTES_BOUND",
        "MIN_RESPONSE_BYTES",
        "NotFoundError",
        "Page",
        "PageToken",
        "Prepared",
        "RETRIABLE_STATUSES",
        "RateLimited",
        "RequestStats",
        "ResponseTooLarge",
        "RetryLater",
        "RetryPolicy",
        "RetryingSender",
        "RunError",
        "Timeouts",
        "UnexpectedAnswer",
        "default_classify",
        "encode_json",
        "env_proxy",
        "error_payload",
        "expect_list",
        "expect_object",
        "nothing_was_sent",
        "parse_retry_after",
        "walk_pages",
    ),
}


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_every_old_name_resolves_to_its_new_home_with_a_warning(old: str) -> None:
    module = importlib.import_module(f"channel_app_template.core.{old}")
    for name in OLD_NAMES[old]:
        with pytest.warns(DeprecationWarning, match=f"core.{old}.{name} moved: import it from"):
            value = getattr(module, name)
        home = importlib.import_module(module._MOVED.home[name])
        assert value is getattr(home, name), name


def test_importing_an_old_module_emits_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for old in OLD_NAMES:
            importlib.reload(importlib.import_module(f"channel_app_template.core.{old}"))


def test_an_unknown_name_is_an_attribute_error() -> None:
    module = importlib.import_module("channel_app_template.core.commands")
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        module.NoSuchThing  # noqa: B018


def test_the_integrator_api_exports_what_the_old_contract_modules_did() -> None:
    import channel_app_template.channel as channel

    for old in ("commands", "dto"):
        module = importlib.import_module(f"channel_app_template.core.{old}")
        for name in OLD_NAMES[old]:
            if module._MOVED.home[name] == "channel_app_template.channel":
                assert name in channel.__all__, name
