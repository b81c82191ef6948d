"""What an integration is given: its typed settings (:class:`ChannelConfig`, from
Omnitron's ``channel.conf``) and where it runs (:class:`IntegrationContext`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from channel_app_template.transport import Limits, Timeouts

__all__ = ["ChannelConfig", "IntegrationContext"]


class ChannelConfig(BaseModel):
    """The channel's settings from Omnitron's ``channel.conf``; subclass to add your own.

    Unknown keys are kept, so settings Omnitron adds never break an integration. A field's
    docstring is its description, which labels it in the merchant's settings form.
    """

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    remote_id_attribute: str = "sku"
    """Where the matching key lives: ``sku`` or a ``__`` path such as ``attributes__barcode``."""

    def setting(self, name: str) -> Any:
        """A declared field or, when the subclass does not declare it, an extra key."""
        value = getattr(self, name, None)
        return value if value is not None else (self.model_extra or {}).get(name)

    def reason_ids(self) -> tuple[dict[str, int], int | None]:
        """``reason_mapping`` (channel reason code -> Omnitron reason id) and the
        ``cancellation_reason_id`` fallback, both read forwards and backwards from here."""
        mapping = {
            str(code): int(str(pk))
            for code, pk in dict(self.setting("reason_mapping") or {}).items()
            if str(pk).isdigit()
        }
        fallback = self.setting("cancellation_reason_id")
        return mapping, int(str(fallback)) if str(fallback or "").isdigit() else None


@dataclass(frozen=True)
class IntegrationContext:
    """What an integration may know about where it runs.

    ``http_limits`` and ``http_timeouts`` are the deployment's transport bounds
    (``HTTP_MAX_RESPONSE_BYTES``, ``HTTP_MAX_PAGES``, ``HTTP_REQUEST_DEADLINE``): pass them
    to the marketplace client's ``HttpClient``.
    """

    channel_id: int
    catalog_id: int
    logger: logging.Logger
    http_limits: Limits = field(default_factory=Limits)
    http_timeouts: Timeouts = field(default_factory=Timeouts)
