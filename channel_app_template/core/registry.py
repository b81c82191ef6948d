"""Loads the integrations named by ``OMNITRON_MODULE`` and ``CHANNEL_MODULE``.

A channel module exposes a class named ``ChannelIntegration`` (Akinon's convention) that
subclasses :class:`channel_app_template.core.commands.ChannelIntegration`; an Omnitron
module exposes ``OmnitronIntegration``. Every way this can go wrong names the module and
what is missing, because this is the first thing an integrator gets wrong.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, TypeVar

from channel_app_template.core.commands import ChannelIntegration
from channel_app_template.core.errors import ConfigurationError

T = TypeVar("T")


def load_class(module_path: str, attribute: str, base: type[T], setting: str) -> type[T]:
    """``module_path.attribute``, checked to be a concrete subclass of ``base``."""
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        if error.name and module_path.startswith(error.name):
            raise ConfigurationError(
                f"{setting}={module_path}: no such module (is it installed and spelled right?)"
            ) from None
        raise ConfigurationError(
            f"{setting}={module_path}: importing it failed: {error}"
        ) from error
    except Exception as error:
        raise ConfigurationError(
            f"{setting}={module_path}: importing it failed: {type(error).__name__}: {error}"
        ) from error
    found: Any = getattr(module, attribute, None)
    if found is None:
        raise ConfigurationError(
            f"{setting}={module_path}: the module has no {attribute!r}; define "
            f"'class {attribute}({base.__module__}.{base.__name__})' in it"
        )
    if not (inspect.isclass(found) and issubclass(found, base)):
        raise ConfigurationError(
            f"{setting}={module_path}: {attribute} must be a subclass of "
            f"{base.__module__}.{base.__name__}"
        )
    missing = sorted(getattr(found, "__abstractmethods__", ()))
    if missing:
        raise ConfigurationError(
            f"{setting}={module_path}: {attribute} does not implement {', '.join(missing)}"
        )
    return found


def load_channel(module_path: str) -> type[ChannelIntegration]:
    base: type[Any] = ChannelIntegration  # abstract on purpose: subclasses are checked concrete
    loaded: type[ChannelIntegration] = load_class(
        module_path, "ChannelIntegration", base, "CHANNEL_MODULE"
    )
    return loaded
