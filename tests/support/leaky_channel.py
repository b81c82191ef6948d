"""A careless integration: the reference one, except that fetching orders fails with the
channel's own secrets (its typed API key and a nested extra ``client_secret``) in the
error, as a hurried integrator's code might."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from channel_app_template.channel.reference.integration import ReferenceIntegration

__all__ = ["ChannelIntegration"]


class ChannelIntegration(ReferenceIntegration):
    def get_orders(self) -> Iterator[Any]:
        nested = self.conf.setting("oauth") or {}
        self.context.logger.warning(
            "about to fail with %s", nested.get("client_secret"), extra={"conf": nested}
        )
        raise RuntimeError(
            f"marketplace refused key {self.conf.api_key.get_secret_value()} "
            f"(client secret {nested.get('client_secret')})"
        )
        yield  # a generator, like the method it replaces
