"""Loads the integrations named by ``OMNITRON_MODULE`` and ``CHANNEL_MODULE``.

A channel module exposes a class named ``ChannelIntegration`` (Akinon's convention) that
subclasses :class:`channel_app_template.channel.ChannelIntegration`; an Omnitron
module exposes ``OmnitronIntegration``. Every way this can go wrong names the module and
what is missing, because this is the first thing an integrator gets wrong.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from channel_app_template.channel import ChannelIntegration
from channel_app_template.errors import ConfigurationError

if TYPE_CHECKING:
    from channel_app_template.settings import Settings

__all__ = ["integration_problems", "load_channel", "load_class", "load_omnitron"]

T = TypeVar("T")
INSTALL_HINT = (
    "run 'pip install -e .' in the project's directory (on Akinon Commerce Cloud, build.sh "
    "installs the project)"
)


def _found_in(directory: Path, module_path: str) -> str | None:
    """``./a/b/c.py`` (or the deepest existing package directory) when the module's source
    is under ``directory``: it exists but this Python environment cannot import it."""
    parts = module_path.split(".")
    if directory.joinpath(*parts).with_suffix(".py").is_file():
        return "./" + "/".join(parts) + ".py"
    for depth in range(len(parts), 0, -1):
        if directory.joinpath(*parts[:depth]).is_dir():
            return "./" + "/".join(parts[:depth]) + "/"
    return None


def load_class(module_path: str, attribute: str, base: type[T], setting: str) -> type[T]:
    """``module_path.attribute``, checked to be a concrete subclass of ``base``."""
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        if error.name and module_path.startswith(error.name):
            local = _found_in(Path.cwd(), module_path)
            if local is not None:
                raise ConfigurationError(
                    f"{setting}={module_path}: not installed: {local} is in the current "
                    f"directory, but this Python environment cannot import it; {INSTALL_HINT}"
                ) from None
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


def load_omnitron(module_path: str) -> type[Any]:
    from channel_app_template.akinon.integration import OmnitronIntegration

    loaded: type[OmnitronIntegration] = load_class(
        module_path, "OmnitronIntegration", OmnitronIntegration, "OMNITRON_MODULE"
    )
    return loaded


def integration_problems(settings: Settings) -> list[str]:
    """Start-up check for the worker and beat: both modules import and define their class.

    Importing them here, in the process that forks the task pool, also keeps them loaded
    for every task, so a bad module is one message at start-up instead of a failure of
    every task at run time.
    """
    problems = []
    for load, module_path in (
        (load_omnitron, settings.omnitron_module),
        (load_channel, settings.channel_module),
    ):
        try:
            load(module_path)
        except ConfigurationError as error:
            problems.append(error.message)
    return problems
