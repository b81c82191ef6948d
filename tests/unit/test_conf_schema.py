"""The merchant's settings form by default: ``get_channel_conf_schema`` derived from the
channel's config model (types, required, secrets, choices, descriptions), overridable."""

from __future__ import annotations

import datetime
import enum
import json
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import pytest
from hypothesis import given, strategies as st
from pydantic import ConfigDict, Field, HttpUrl, SecretStr, create_model

from channel_app_template.channel import (
    ChannelConfig,
    ChannelConfSchemaField,
    ChannelIntegration,
    ConfDataType,
    IntegrationContext,
    UnsupportedCommand,
    conf_schema_fields,
)
from channel_app_template.channel.reference.integration import (
    ReferenceConfig,
    ReferenceIntegration,
)
from channel_app_template.core.setup.flows import ENGINE_CONF_FIELDS, update_channel_conf_schema
from tests.unit.test_setup_flows import fake_omnitron

CONTEXT = IntegrationContext(1, 1, logging.getLogger("tests.unit.conf_schema"))


class Region(enum.Enum):
    EU = "eu"
    US = "us"


class Opaque:
    """A type pydantic cannot describe in JSON Schema."""


class ShopConfig(ChannelConfig):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    api_url: HttpUrl
    """Where the marketplace's API lives."""
    api_key: SecretStr = SecretStr("do-not-show-me")
    seller_id: int = Field(ge=1, le=10**9, description="Your seller number on the marketplace")
    timeout: float = Field(30.0, gt=0, le=300, title="Seconds per call")
    sandbox: bool = False
    region: Region = Region.EU
    mode: Literal["fast", "safe"] = "safe"
    contact: str | None = None
    """Who to call.

    The second paragraph is for readers of the code, not for the form."""
    tags: list[str] = Field(default_factory=list)
    warehouse_of: dict[str, int] = Field(default_factory=dict)
    since: datetime.date | None = None
    last_run: datetime.datetime | None = None
    either: int | str = 1
    blob: Opaque | None = None
    shop_name: str = Field("", alias="ShopName")


class Shop(ChannelIntegration):
    config_model = ShopConfig

    def check_connection(self) -> None:
        return None


def form(model: type[ChannelConfig]) -> dict[str, dict[str, Any]]:
    fields = conf_schema_fields(model, skip=ChannelConfig.model_fields)
    return {field.key: field.as_omnitron() for field in fields}


def test_each_field_gets_omnitrons_type_required_flag_and_label() -> None:
    fields = form(ShopConfig)
    assert list(fields) == [
        "api_url",
        "api_key",
        "seller_id",
        "timeout",
        "sandbox",
        "region",
        "mode",
        "contact",
        "tags",
        "warehouse_of",
        "since",
        "last_run",
        "either",
        "blob",
        "ShopName",
    ]
    assert fields["api_url"] == {
        "key": "api_url",
        "label": "Where the marketplace's API lives.",
        "data_type": "URL",
        "required": True,
    }
    assert fields["api_key"]["schema"] == {"format": "password"}
    assert fields["api_key"]["required"] is False
    assert fields["seller_id"] == {
        "key": "seller_id",
        "label": "Your seller number on the marketplace",
        "data_type": "integer",
        "required": True,
        "schema": {"minimum": 1, "maximum": 10**9},
    }
    assert fields["timeout"]["label"] == "Seconds per call"
    assert fields["timeout"]["data_type"] == "text"
    assert fields["timeout"]["schema"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 300}
    assert fields["sandbox"]["data_type"] == "bool" and fields["sandbox"]["label"] == "Sandbox"
    assert fields["region"]["schema"] == {"enum": ["eu", "us"]}
    assert fields["mode"]["schema"] == {"enum": ["fast", "safe"]}
    assert fields["contact"]["label"] == "Who to call."
    assert fields["contact"]["data_type"] == "text" and not fields["contact"]["required"]
    assert fields["tags"]["data_type"] == "list"
    assert fields["warehouse_of"]["data_type"] == "json"
    assert fields["since"]["data_type"] == "date"
    assert fields["last_run"]["data_type"] == "datetime"
    assert fields["either"]["data_type"] == "text"
    assert fields["blob"]["data_type"] == "text"  # undescribable: a text field, not a crash
    assert fields["ShopName"]["label"] == "Shop name"  # keyed as the conf spells it


def test_a_secrets_default_never_reaches_the_form() -> None:
    text = json.dumps(form(ShopConfig))
    assert "do-not-show-me" not in text
    assert "**" not in text  # not even masked: defaults are not part of the form


def test_the_engines_own_keys_are_left_to_the_engine_fields() -> None:
    keys = set(form(ShopConfig))
    assert not keys & set(ChannelConfig.model_fields)
    assert "remote_id_attribute" in {field.key for field in ENGINE_CONF_FIELDS}


def test_an_integration_that_writes_no_schema_gets_the_derived_one() -> None:
    assert Shop.supports("get_channel_conf_schema")
    assert "get_channel_conf_schema" in Shop.supported_commands()
    channel = Shop(ShopConfig(api_url="https://api.shop.example", seller_id=7), CONTEXT)
    assert {f.key: f.as_omnitron() for f in channel.get_channel_conf_schema()} == form(ShopConfig)


def test_the_setup_flow_writes_the_derived_form_with_the_engine_fields() -> None:
    omnitron, catalog = fake_omnitron()
    channel = Shop(ShopConfig(api_url="https://api.shop.example", seller_id=7), CONTEXT)
    summary = update_channel_conf_schema(omnitron, channel)
    assert summary["written"]
    assert summary["fields"] == len(ENGINE_CONF_FIELDS) + len(form(ShopConfig))
    assert catalog.schema["api_key"]["schema"] == {"format": "password"}
    assert catalog.schema["seller_id"]["required"] is True
    assert catalog.schema["remote_id_attribute"]["key"] == "remote_id_attribute"


def test_an_override_wins_and_unsupported_still_switches_it_off() -> None:
    class Written(Shop):
        def get_channel_conf_schema(self) -> Sequence[ChannelConfSchemaField]:
            return [ChannelConfSchemaField(key="only", label="Only this")]

    class Off(Shop):
        unsupported: ClassVar[dict[str, str]] = {"get_channel_conf_schema": "no settings here"}

    conf = ShopConfig(api_url="https://api.shop.example", seller_id=7)
    assert [f.key for f in Written(conf, CONTEXT).get_channel_conf_schema()] == ["only"]
    assert not Off.supports("get_channel_conf_schema")
    with pytest.raises(UnsupportedCommand, match="no settings here"):
        Off(conf, CONTEXT).get_channel_conf_schema()


def test_the_reference_integration_uses_the_derived_form() -> None:
    derived = ChannelIntegration.get_channel_conf_schema
    assert ReferenceIntegration.get_channel_conf_schema is derived
    fields = form(ReferenceConfig)
    assert fields["api_url"]["data_type"] == "URL"
    assert fields["api_key"]["schema"] == {"format": "password"}
    assert fields["order_page_size"]["schema"] == {"minimum": 1, "maximum": 1000}
    assert fields["order_status_mapping"]["data_type"] == "json"


FIELD_TYPES: list[tuple[Any, Any, str]] = [
    (str, "x", "text"),
    (int, 3, "integer"),
    (bool, True, "bool"),
    (float, 1.5, "text"),
    (SecretStr, SecretStr("s"), "text"),
    (list[int], [], "list"),
    (dict[str, str], {}, "json"),
    (Region, Region.US, "text"),
    (datetime.date | None, None, "date"),
]


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
            lambda key: key not in ChannelConfig.model_fields and not key.startswith("model_")
        ),
        st.tuples(st.sampled_from(FIELD_TYPES), st.booleans()),
        max_size=12,
    )
)
def test_any_config_model_gives_one_valid_field_per_key(
    spec: dict[str, tuple[tuple[Any, Any, str], bool]],
) -> None:
    definitions: dict[str, Any] = {
        key: (kind, ... if required else default)
        for key, ((kind, default, _), required) in spec.items()
    }
    model = create_model("Generated", __base__=ChannelConfig, **definitions)
    fields = conf_schema_fields(model, skip=ChannelConfig.model_fields)
    assert [f.key for f in fields] == list(spec)
    for field in fields:
        (_, _, data_type), required = spec[field.key]
        assert field.data_type == ConfDataType(data_type)
        assert field.required is required
        assert field.label
