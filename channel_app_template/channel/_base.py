"""The contract between the engine and a marketplace: :class:`ChannelIntegration`.

A marketplace integration is one subclass, generic over its settings model
(``class Acme(ChannelIntegration[AcmeConfig])``: ``self.config`` is an ``AcmeConfig``). It
must implement :meth:`~ChannelIntegration.check_connection`, then one method per resource it
handles (:mod:`~channel_app_template.channel._resources`: ``send_products``,
``send_stocks``, ``get_orders``...). What it implements is what it supports; ``upserts =
True`` lets each ``send_*`` method serve updates too. ``unsupported`` only holds the
reasons operators see for what it does not implement.

The engine calls Akinon's command names (``send_inserted_products``, ``check_products``...);
:mod:`~channel_app_template.channel._legacy` maps them onto the methods above, so an
integration written with those names works unchanged.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, get_args, get_origin

from typing_extensions import TypeVar

from channel_app_template.channel._client import ApiClient
from channel_app_template.channel._conf_schema import conf_schema_fields
from channel_app_template.channel._config import ChannelConfig, IntegrationContext
from channel_app_template.channel._dto import (
    AttributeDto,
    CategoryDto,
    CategoryTreeDto,
    ChannelConfSchemaField,
)
from channel_app_template.channel._legacy import AkinonCommands
from channel_app_template.channel._resources import (
    STUBS,
    ProductResults,
    RowResults,
    UnsupportedCommand,
)
from channel_app_template.channel.commands import COMMANDS, DERIVED_COMMANDS, SERVED_BY, UPSERTS

__all__ = [
    "ChannelIntegration",
    "ProductResults",
    "RowResults",
    "UnsupportedCommand",
    "describe",
]

ConfigT = TypeVar("ConfigT", bound=ChannelConfig, default=ChannelConfig)

CARRIABLE = frozenset({"stocks", "prices", "images"})
"""What a product's payload may carry with it (see ``ChannelIntegration.product_carries``)."""


class ChannelIntegration(AkinonCommands, ABC, Generic[ConfigT]):
    """Base class of every marketplace integration (see the module docstring)."""

    config_model: ClassVar[type[ChannelConfig]] = ChannelConfig
    """The typed model of ``channel.conf``, validated before any command runs; taken from
    the class's type argument (``ChannelIntegration[AcmeConfig]``) unless set."""

    max_batch_size: ClassVar[int] = 500
    """The most items one ``send_*`` call receives."""

    upserts: ClassVar[bool] = False
    """The marketplace creates or updates by matching key: ``send_*`` serves both."""

    product_carries: ClassVar[frozenset[str]] = frozenset()
    """What ``send_products`` puts in each product's payload besides the product, of
    ``"stocks"``, ``"prices"`` and ``"images"``: the default stock list's stock, the
    default price list's price, the active images (``item.details``). When a product is
    first sent, the rows it carried that were never synced (or failed) are committed with
    its batch and settled with its result, so a first day sends each of them once, with
    its product, instead of again in its own flow. Declare only what the payload always
    carries when the row exists."""

    unsupported: ClassVar[Mapping[str, str]] = {}
    """Why a command is not supported, shown to operators (by Akinon command name). Listing a
    command the class implements still turns it off, as it did before the contract, but
    warns (``DeprecationWarning``): the old scaffold's stubs-and-list style."""

    not_implemented_reason: ClassVar[str] = "not implemented"
    """The reason shown for a command neither implemented nor given one in ``unsupported``."""

    def __init__(self, config: ConfigT, context: IntegrationContext) -> None:
        self.config: ConfigT = config
        self.context = context
        self.log = context.logger

    @property
    def conf(self) -> ConfigT:
        """The old name of :attr:`config`, for integrations that kept a re-cast copy there."""
        return self.config

    @conf.setter
    def conf(self, value: ConfigT) -> None:
        self.config = value

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "config_model" not in cls.__dict__:
            for base in cls.__dict__.get("__orig_bases__", ()):
                origin, args = get_origin(base), (*get_args(base), None)
                if (
                    isinstance(origin, type)
                    and issubclass(origin, ChannelIntegration)
                    and isinstance(args[0], type)
                    and issubclass(args[0], ChannelConfig)
                ):
                    cls.config_model = args[0]
        if isinstance(cls.product_carries, str):
            raise TypeError(
                f"{cls.__qualname__}.product_carries must be a set of names, "
                f"not the string {cls.product_carries!r}"
            )
        if unknown := sorted(set(cls.product_carries) - CARRIABLE):
            raise TypeError(
                f"{cls.__qualname__}.product_carries: {', '.join(map(repr, unknown))} "
                f"cannot ride with a product; choose from {', '.join(sorted(CARRIABLE))}"
            )
        if both := sorted(c for c in cls.unsupported if c in COMMANDS and cls._serving(c)):
            warnings.warn(
                f"{cls.__qualname__} implements {', '.join(both)} but lists them in "
                "'unsupported': they stay unsupported; delete the entries or the methods",
                DeprecationWarning,
                stacklevel=2,
            )

    @abstractmethod
    def check_connection(self) -> None:
        """Make one cheap authenticated call to the marketplace; raise if it fails."""

    def close(self) -> None:
        """Release connections; called when a task is done with the integration. By
        default: closes ``self.client`` if it is an :class:`ApiClient`."""
        client = getattr(self, "client", None)
        if isinstance(client, ApiClient):
            client.close()

    # --- Which commands exist ----------------------------------------------------

    @classmethod
    def _implements(cls, method: str) -> bool:
        found = getattr(cls, method, None)
        return found is not getattr(ChannelIntegration, method, None) and found not in STUBS

    @classmethod
    def _serving(cls, command: str) -> str | None:
        """The method of this class that serves ``command`` (its own name for an integration
        written with the command names), or ``None``."""
        served = SERVED_BY.get(command, command)
        upsert = UPSERTS.get(served) if cls.upserts else None
        for method in (command, served, upsert):
            if method and cls._implements(method):
                return method
        return None

    @classmethod
    def supports(cls, command: str) -> bool:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        if command in cls.unsupported:
            return False
        return command in DERIVED_COMMANDS or cls._serving(command) is not None

    @classmethod
    def supported_commands(cls) -> list[str]:
        return [command for command in COMMANDS if cls.supports(command)]

    @classmethod
    def reason(cls, command: str) -> str:
        """Why ``command`` is not supported, for operators."""
        return cls.unsupported.get(command) or cls.not_implemented_reason

    def _unsupported(self, command: str) -> UnsupportedCommand:
        return UnsupportedCommand(command, type(self), self.unsupported.get(command, ""))

    # --- Setup ----------------------------------------------------------------------

    def get_channel_conf_schema(self) -> Sequence[ChannelConfSchemaField]:
        """The settings form fields Omnitron should show for this channel: by default one
        per field of ``config_model`` (see :mod:`~channel_app_template.channel._conf_schema`;
        the base class's keys are the engine's own form fields). Override to change it."""
        if "get_channel_conf_schema" in self.unsupported:
            raise self._unsupported("get_channel_conf_schema")
        return conf_schema_fields(self.config_model, skip=ChannelConfig.model_fields)

    def get_category_tree_and_nodes(self) -> CategoryTreeDto:
        """The marketplace's whole category tree."""
        raise self._unsupported("get_category_tree_and_nodes")

    def get_category_attributes(self, category_remote_id: str) -> CategoryDto:
        """One category's attributes and their allowed values."""
        raise self._unsupported("get_category_attributes")

    def get_attributes(self) -> list[AttributeDto]:
        """Attributes that apply to every category, for marketplaces that have them."""
        raise self._unsupported("get_attributes")


def describe(integration: type[ChannelIntegration]) -> dict[str, Any]:
    """Supported and unsupported commands, for ``channel-app`` and task summaries."""
    return {
        "integration": f"{integration.__module__}.{integration.__name__}",
        "supported": integration.supported_commands(),
        "unsupported": {c: integration.reason(c) for c in COMMANDS if not integration.supports(c)},
    }
