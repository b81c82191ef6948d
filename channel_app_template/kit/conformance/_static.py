"""The checks before anything is written: ``load``, ``describe``, ``config``,
``marketplace`` (is there one, when a supported command needs it) and ``check_connection``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from pydantic import ValidationError

from channel_app_template.channel import ChannelIntegration, IntegrationContext, describe
from channel_app_template.channel.commands import COMMANDS
from channel_app_template.core.run.registry import load_channel
from channel_app_template.errors import ConfigurationError
from channel_app_template.kit.conformance._report import ConformanceReport
from channel_app_template.kit.conformance._returns import what

__all__ = [
    "GIVE_A_MARKETPLACE",
    "NO_MARKETPLACE",
    "ConfigCheck",
    "ConnectionCheck",
    "DescribeCheck",
    "LoadCheck",
    "MarketplaceCheck",
]

GIVE_A_MARKETPLACE = (
    "pass its channel conf (--conf JSON|@file, or CHANNEL_APP_CONFORMANCE_CONF) or define "
    "conformance_marketplace() in the channel module"
)
NO_MARKETPLACE = f"needs a test marketplace: {GIVE_A_MARKETPLACE}"


class LoadCheck:
    """``load``: the module imports and its ``ChannelIntegration`` is a concrete subclass."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report

    def run(self, module: str) -> type[ChannelIntegration] | None:
        try:
            channel_class = load_channel(module)
        except ConfigurationError as error:
            self.report.fail("load", str(error))
            self.report.skip_unset("the module did not load")
            return None
        self.report.ran("load")
        return channel_class


class DescribeCheck:
    """``describe``: ``describe()`` works and ``unsupported`` names only known commands;
    each unsupported command is skipped with its declared reason."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report

    def run(self, channel_class: type[ChannelIntegration]) -> None:
        report = self.report
        if unknown := sorted(set(channel_class.unsupported) - set(COMMANDS)):
            report.fail(
                "describe",
                f"'unsupported' names commands that do not exist: {', '.join(unknown)} "
                f"(known: {', '.join(COMMANDS)})",
            )
        try:
            described = describe(channel_class)
        except Exception as error:
            report.fail("describe", f"describe() raised {what(error)}")
            return
        listed = set(described["supported"]) | set(described["unsupported"])
        if listed != set(COMMANDS):
            report.fail("describe", f"describe() does not list {sorted(set(COMMANDS) - listed)}")
        for command, why in described["unsupported"].items():
            report.skip(command, f"unsupported: {why}")
        report.ran("describe")


class MarketplaceCheck:
    """``marketplace`` without one: failed when a supported command needs one."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report

    def run_without(self, needs: set[str]) -> None:
        if needs:
            shown = ", ".join(sorted(needs)[:4]) + (
                f" and {len(needs) - 4} more" if len(needs) > 4 else ""
            )
            self.report.fail(
                "marketplace",
                f"{shown} supported, so a test marketplace is needed: {GIVE_A_MARKETPLACE}",
            )
        else:
            self.report.skip("marketplace", "no supported command needs a marketplace")
        self.report.skip("check_connection", NO_MARKETPLACE)


class ConfigCheck:
    """``config``: ``config_model`` validates the conf and the class builds with it."""

    def __init__(self, report: ConformanceReport, channel_class: type[ChannelIntegration]):
        self.report = report
        self.cls = channel_class

    def run(self, conf: dict[str, Any], stack: contextlib.ExitStack) -> ChannelIntegration | None:
        """The integration built (closed by ``stack``), or ``None``: every check left skipped."""
        report = self.report
        try:
            config = self.cls.config_model.model_validate(conf)
        except ValidationError as error:
            missing = sorted({str(e["loc"][0]) for e in error.errors() if e["type"] == "missing"})
            if not report.live and len(missing) == len(error.errors()):
                report.skip("config", f"needs the test marketplace's conf for {missing}")
            else:  # the problems without the values: a conf holds secrets
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
                )
                report.fail(
                    "config", f"{self.cls.config_model.__name__} refused the conf: {problems}"
                )
            report.skip_unset("the conf did not validate")
            return None
        logger = logging.getLogger(f"channel_app_template.conformance.{self.cls.__module__}")
        try:
            channel = self.cls(config, IntegrationContext(1, 1, logger))
        except Exception as error:
            report.fail("config", f"ChannelIntegration(config, context) raised {what(error)}")
            report.skip_unset("the integration could not be built")
            return None
        stack.callback(_close, channel)
        report.ran("config")
        return channel


class ConnectionCheck:
    """``check_connection``: runs with the conf and does not raise."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report

    def run(self, channel: ChannelIntegration) -> bool:
        try:
            channel.check_connection()
        except Exception as error:
            self.report.fail("check_connection", f"raised {what(error)}")
            self.report.skip_unset("check_connection failed, so the marketplace was not used")
            return False
        self.report.ran("check_connection")
        return True


def _close(channel: ChannelIntegration) -> None:
    with contextlib.suppress(Exception):
        channel.close()
