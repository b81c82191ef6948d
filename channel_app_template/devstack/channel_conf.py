"""Which marketplace ``channel-app dev`` points the channel at, and where that came from.

The channel's settings (``channel.conf``) live in Omnitron; with the Omnitron simulator
``dev`` writes them there before the worker starts, from the first of:

1. ``--channel-conf JSON|@file``: the integrator's own marketplace (sandbox account);
2. the reference channel: the reference marketplace simulator ``dev`` starts;
3. the channel module's ``conformance_marketplace()``, the test marketplace conformance
   uses too: started for the life of ``dev``, its ``conf`` written;
4. nothing: whatever the simulator holds is kept, and ``dev`` says how to give one.

A channel other than the reference one never gets the reference marketplace's settings.
With the developer's own Omnitron ``dev`` writes nothing: the merchant's settings rule.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ChannelChoice",
    "GivenConf",
    "choose_channel",
    "load_channel_conf",
    "started_marketplace",
]

GIVE_ONE = "pass --channel-conf JSON|@file, or define conformance_marketplace() in {module}"
Kind = Literal["reference", "given", "hook", "kept", "yours"]


@dataclass(frozen=True)
class GivenConf:
    """A ``--channel-conf`` value, parsed; ``source`` names it without its (secret) values."""

    conf: dict[str, Any]
    source: str


def load_channel_conf(value: str) -> GivenConf:
    """``'{"api_url": ...}'`` or ``@path/to/conf.json``: the simulator's own parser and
    limits (``sandbox omnitron --channel-conf`` takes the same), never echoing the value."""
    from channel_app_template.sandbox.common.channel_conf import load_channel_conf as parse

    source = f"--channel-conf @{Path(value[1:]).expanduser()}" if value.startswith("@") else ""
    return GivenConf(parse(value), source or "--channel-conf")


def _keys(conf: Mapping[str, Any]) -> str:
    return f"keys: {', '.join(sorted(conf))}" if conf else "empty"


@dataclass(frozen=True)
class ChannelChoice:
    """What ``dev`` does about ``channel.conf``; ``describe()`` is its one banner line."""

    kind: Kind
    module: str
    conf: dict[str, Any] | None = None
    source: str = ""
    hook: Callable[[], contextlib.AbstractContextManager[Any]] | None = field(
        default=None, compare=False
    )
    problem: str = ""

    @property
    def reference(self) -> bool:
        return self.kind == "reference"

    def describe(self, conf: Mapping[str, Any] | None = None, market_url: str = "") -> str:
        if self.kind == "reference":
            return f"the reference marketplace simulator ({market_url})"
        if self.kind == "given":
            return f"{self.source} ({_keys(self.conf or {})})"
        if self.kind == "hook":
            return f"{self.module}.conformance_marketplace() ({_keys(conf or {})})"
        if self.kind == "yours":
            return "yours, as set in your Omnitron (OMNITRON_URL)"
        held = _keys(conf) if conf is not None else "unknown"
        why = f"; {self.problem}" if self.problem else ""
        return f"kept what the Omnitron simulator holds ({held}){why}: " + GIVE_ONE.format(
            module=self.module
        )


def reference_modules() -> frozenset[str]:
    from channel_app_template.channel_modules import REFERENCE_MODULES

    return REFERENCE_MODULES


def choose_channel(module: str, given: GivenConf | None, simulated_omnitron: bool) -> ChannelChoice:
    """Decide before anything starts. Imports the module only to look for its hook."""
    if not simulated_omnitron:
        if given is not None:
            raise ValueError(
                "--channel-conf sets the Omnitron simulator's channel, but OMNITRON_URL names "
                "your own Omnitron: set the channel's settings there instead"
            )
        return ChannelChoice("yours", module)
    if given is not None:
        return ChannelChoice("given", module, given.conf, given.source)
    if module in reference_modules():
        return ChannelChoice("reference", module)
    from channel_app_template.channel_modules import own_marketplace as marketplace_hook

    try:
        hook = marketplace_hook(module)
    except Exception as error:
        # The worker will say the same in its own words; dev must still start to show it.
        reason = traceback.format_exception_only(error)[-1].strip()
        return ChannelChoice("kept", module, problem=f"CHANNEL_MODULE={module}: {reason}")
    if hook is None:
        return ChannelChoice("kept", module)
    return ChannelChoice("hook", module, hook=hook)


@contextlib.contextmanager
def started_marketplace(choice: ChannelChoice) -> Iterator[Any]:
    """The module's test marketplace for the life of ``dev`` (``None`` for other kinds)."""
    if choice.kind != "hook" or choice.hook is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            market = stack.enter_context(choice.hook())
        except Exception as error:
            reason = traceback.format_exception_only(error)[-1].strip()
            raise RuntimeError(
                f"{choice.module}.conformance_marketplace() failed: {reason}"
            ) from error
        yield market
