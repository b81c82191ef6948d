"""What the tools know about a channel module: is it the bundled reference integration,
and does it bring its own test marketplace (``conformance_marketplace()``)?

Two tools ask: the conformance kit (:mod:`channel_app_template.kit.conformance`) runs its
checks against that marketplace, and ``channel-app dev``
(:mod:`channel_app_template.devstack.channel_conf`) points the channel at it. The tools are
independent of each other, so the answer lives here, below both; it imports nothing of the
package.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HOOK_NAME",
    "REFERENCE_MODULES",
    "MarketplaceHook",
    "TestMarketplace",
    "own_marketplace",
]

REFERENCE_MODULES = frozenset(
    {"channel_app_template.channel.reference.integration", "channel_app_template.channel.reference"}
)
"""The names ``CHANNEL_MODULE`` may give the reference integration."""

HOOK_NAME = "conformance_marketplace"


@dataclass
class TestMarketplace:
    """What a channel module's ``conformance_marketplace()`` yields: the ``conf`` reaching a
    test marketplace, and optionally ``prepare_orders()`` (make a few new orders there,
    for products the catalog run just sent) and ``prepare_events()``."""

    conf: dict[str, Any]
    prepare_orders: Callable[[], None] | None = None
    prepare_events: Callable[[], None] | None = None
    """Called after the orders were ingested: make line updates, cancellations and
    cancellation requests on some of them."""

    __test__ = False  # not a pytest test class


MarketplaceHook = Callable[[], contextlib.AbstractContextManager[TestMarketplace]]
"""``conformance_marketplace``: a context manager factory yielding a :class:`TestMarketplace`."""


def own_marketplace(module: str) -> MarketplaceHook | None:
    """The module's own ``conformance_marketplace`` (imports ``module``), or ``None``."""
    found: Any = getattr(importlib.import_module(module), HOOK_NAME, None)
    if not callable(found):
        return None
    hook: MarketplaceHook = found  # the module's word; a wrong one fails where it is used
    return hook
