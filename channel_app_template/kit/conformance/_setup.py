"""The setup commands through the engine's setup flows (settings form, categories,
attributes), on the runtime a task would get."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channel_app_template.core.setup import flows
from channel_app_template.kit.conformance._harness import Live
from channel_app_template.kit.conformance._returns import what

__all__ = ["SetupChecks"]

CATEGORY_LIMIT = 20
"""Categories whose attributes the run reads (a task reads up to 200): enough to check."""


class SetupChecks:
    def __init__(self, live: Live) -> None:
        self.live = live

    def run(self) -> None:
        omnitron, channel = self.live.runtime.omnitron, self.live.runtime.channel
        setup: dict[str, Callable[[], dict[str, Any]]] = {
            "get_channel_conf_schema": lambda: flows.update_channel_conf_schema(omnitron, channel),
            "get_category_tree_and_nodes": lambda: flows.create_or_update_category_tree_and_nodes(
                omnitron, channel
            ),
            "get_category_attributes": lambda: flows.create_or_update_category_attributes(
                omnitron, channel, limit=CATEGORY_LIMIT
            ),
            "get_attributes": lambda: flows.create_or_update_attributes(omnitron, channel),
        }
        report = self.live.report
        for command, flow in setup.items():
            if command not in self.live.supported:
                continue
            try:
                summary = flow()
            except Exception as error:
                report.fail(command, f"the setup flow stopped: {what(error)}")
                continue
            if summary.get("failed"):
                report.fail(command, f"the setup flow reported failures: {summary}")
