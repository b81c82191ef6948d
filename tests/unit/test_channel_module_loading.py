"""Loading integrations by module path, and the channel contract's supported commands."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from channel_app_template.channel import (
    ChannelConfig,
    ChannelIntegration,
    IntegrationContext,
    UnsupportedCommand,
    describe,
)
from channel_app_template.channel.commands import COMMANDS
from channel_app_template.core.engine.matching import match_key
from channel_app_template.core.run.registry import load_channel
from channel_app_template.errors import ConfigurationError


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fake_channel_")]:
        del sys.modules[name]


def write(root: Path, name: str, body: str) -> str:
    (root / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_a_good_module_loads(modules: Path) -> None:
    name = write(
        modules,
        "fake_channel_good",
        """
        from channel_app_template.channel import ChannelIntegration as Base

        class ChannelIntegration(Base):
            def check_connection(self):
                return None
    """,
    )
    assert load_channel(name).__name__ == "ChannelIntegration"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("x = 1\n", "has no 'ChannelIntegration'"),
        ("class ChannelIntegration:\n    pass\n", "must be a subclass"),
        (
            "from channel_app_template.channel import ChannelIntegration\n",
            "does not implement check_connection",
        ),
        ("import no_such_dependency_xyz\n", "importing it failed"),
        ("raise RuntimeError('boom at import')\n", "boom at import"),
    ],
)
def test_bad_modules_name_the_problem(modules: Path, body: str, expected: str) -> None:
    name = write(modules, f"fake_channel_bad_{abs(hash(body))}", body)
    with pytest.raises(ConfigurationError, match=expected) as caught:
        load_channel(name)
    assert caught.value.message.startswith(f"CHANNEL_MODULE={name}")


def test_missing_module() -> None:
    with pytest.raises(ConfigurationError, match="no such module"):
        load_channel("fake_channel_that_does_not_exist")


class Partial(ChannelIntegration):
    unsupported: ClassVar[dict[str, str]] = {
        "send_deleted_products": "the marketplace has no delete API"
    }

    def check_connection(self) -> None:
        return None

    def send_inserted_products(self, items):  # type: ignore[no-untyped-def]
        return []


def test_supported_commands_are_the_overridden_ones_and_the_derived_schema() -> None:
    assert Partial.supported_commands() == ["get_channel_conf_schema", "send_inserted_products"]
    info = describe(Partial)
    assert info["unsupported"]["send_deleted_products"] == "the marketplace has no delete API"
    assert set(info["unsupported"]) == set(COMMANDS) - set(Partial.supported_commands())
    with pytest.raises(ValueError, match="unknown command"):
        Partial.supports("send_everything")


def test_unsupported_command_raises_a_named_error() -> None:
    channel = Partial(ChannelConfig(), IntegrationContext(1, 1, logging.getLogger("t")))
    with pytest.raises(
        UnsupportedCommand,
        match="does not support 'send_deleted_products': the marketplace has no delete API",
    ):
        channel.send_deleted_products([])
    with pytest.raises(UnsupportedCommand, match="check_products"):
        channel.check_products("job")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sku", "SKU-1"),
        ("attributes__barcode", "869"),
        ("attributes__missing", None),
        ("attributes__empty", None),
        ("attributes__nested", None),
        ("nope", None),
    ],
)
def test_match_key(path: str, expected: str | None) -> None:
    from channel_app_template.akinon.models import Product

    product = Product(
        pk=1, sku="SKU-1", attributes={"barcode": 869, "empty": " ", "nested": {"a": 1}}
    )
    assert match_key(product, path) == expected
