"""The entry points: :func:`run_conformance` runs the checks in order, and the CLI's
``--conf`` parser.

Before it writes, a live run says what it will write (:mod:`~channel_app_template.kit.plan`)
and writes only with consent: ``confirm=True`` (``--yes``), ``CHANNEL_APP_CONFORMANCE_YES=1``,
or a marketplace the module's own ``conformance_marketplace()`` provides.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from channel_app_template.channel import ChannelIntegration
from channel_app_template.channel.commands import CATALOG_COMMANDS, ORDER_COMMANDS
from channel_app_template.channel_modules import TestMarketplace
from channel_app_template.kit.conformance._catalog import CatalogChecks
from channel_app_template.kit.conformance._harness import Live, open_live
from channel_app_template.kit.conformance._marketplaces import marketplace_hook
from channel_app_template.kit.conformance._orders import OrderChecks
from channel_app_template.kit.conformance._recorder import Recorder
from channel_app_template.kit.conformance._report import ConformanceReport
from channel_app_template.kit.conformance._returns import what
from channel_app_template.kit.conformance._setup import SetupChecks
from channel_app_template.kit.conformance._static import (
    NO_MARKETPLACE,
    ConfigCheck,
    ConnectionCheck,
    DescribeCheck,
    LoadCheck,
    MarketplaceCheck,
)
from channel_app_template.kit.plan import YES_VARIABLE, confirmed, write_plan

__all__ = ["assert_conforms", "conf_from_text", "run_conformance"]

Announce = Callable[[str], None]


def run_conformance(
    module: str,
    conf: Mapping[str, Any] | None = None,
    *,
    use_marketplace: bool = True,
    confirm: bool = False,
    announce: Announce | None = None,
) -> ConformanceReport:
    """Run every check against ``module``; see the package docstring.

    ``conf`` is the channel conf (what the merchant types into Omnitron) for a test
    marketplace; ``None`` uses the module's ``conformance_marketplace()`` if it has one
    (``use_marketplace=False`` ignores it), otherwise checks without a marketplace.
    ``confirm`` lets the run write to the marketplace of ``conf``; ``announce`` receives
    the write plan before the first write (default: printed to stderr).
    """
    report = ConformanceReport(module)
    channel_class = LoadCheck(report).run(module)
    if channel_class is None:
        return report
    DescribeCheck(report).run(channel_class)
    with contextlib.ExitStack() as stack:
        market: TestMarketplace | None = None
        if conf is None and use_marketplace:
            hook = marketplace_hook(module)
            if hook is not None:
                try:
                    market = stack.enter_context(hook())
                except Exception as error:
                    report.fail("marketplace", f"conformance_marketplace() failed: {what(error)}")
                    report.skip_unset("the test marketplace did not start")
                    return report
                conf = market.conf
        report.live = conf is not None
        run = _Sequence(report, channel_class, module, dict(conf or {}), stack)
        run.run(market, market is not None or confirmed(confirm), announce or _to_stderr)
    return report


def assert_conforms(module: str, conf: Mapping[str, Any] | None = None) -> ConformanceReport:
    """:func:`run_conformance`, raising ``AssertionError`` with the report if a check failed."""
    report = run_conformance(module, conf)
    if not report.ok:
        raise AssertionError(report.format())
    return report


def conf_from_text(text: str | None) -> dict[str, Any] | None:
    """``--conf``: JSON text, ``@path`` to a JSON file, or nothing."""
    if not text:
        return None
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("--conf must be a JSON object")
    return data


class _Sequence:
    """The checks after ``describe``, in order; each step may end the run."""

    def __init__(
        self,
        report: ConformanceReport,
        channel_class: type[ChannelIntegration],
        module: str,
        conf: dict[str, Any],
        stack: contextlib.ExitStack,
    ) -> None:
        self.report = report
        self.cls = channel_class
        self.module = module
        self.conf = conf
        self.stack = stack
        self.supported = set(channel_class.supported_commands())
        self.recorder = Recorder(report, channel_class)

    def run(self, market: TestMarketplace | None, consent: bool, announce: Announce) -> None:
        report, supported = self.report, self.supported
        derived = self.cls.get_channel_conf_schema is ChannelIntegration.get_channel_conf_schema
        offline = {"get_channel_conf_schema"} & supported if derived else set()
        if not report.live:
            MarketplaceCheck(report).run_without(supported - offline)
        channel = ConfigCheck(report, self.cls).run(self.conf, self.stack)
        if channel is None:
            return
        if not report.live:
            self._offline(channel, offline)
            return
        report.ran("marketplace")
        if not ConnectionCheck(report).run(channel):
            return
        if not supported & set(CATALOG_COMMANDS):
            report.skip("catalog_batches", "no catalog command is supported")
        if "get_orders" not in supported:
            report.skip("order_ingestion", "get_orders is not supported")
        if supported:
            self._live(market, consent, announce)

    def _offline(self, channel: ChannelIntegration, offline: set[str]) -> None:
        """What needs no marketplace (the settings form derived from the config model)."""
        for command in sorted(offline):
            self.recorder.instrument(channel, {command})
            with contextlib.suppress(Exception):  # recorded by the recorder
                getattr(channel, command)()
        self.report.skip_unset(NO_MARKETPLACE)

    def _live(self, market: TestMarketplace | None, consent: bool, announce: Announce) -> None:
        report, supported = self.report, self.supported
        catalog, orders = supported & set(CATALOG_COMMANDS), supported & set(ORDER_COMMANDS)
        needs = {"catalog_batches": "the catalog checks"} if catalog else {}
        needs |= {"order_ingestion": "the order checks"} if orders else {}
        opened = open_live(
            report, self.stack, self.module, self.conf, needs or {"marketplace": "the checks"}
        )
        if opened is None:
            return
        sim, runtime = opened
        if plan := write_plan(runtime.omnitron, supported):
            url = self.conf.get("api_url")
            text = plan.format(f"the marketplace at {url}") if url else plan.format()
            if not consent:
                report.fail(
                    "marketplace",
                    f"{text}\nnothing was written: confirm with --yes ({YES_VARIABLE}=1 "
                    "for pytest), or define conformance_marketplace()",
                )
                report.skip_unset("the writes to the marketplace were not confirmed")
                return
            announce(text)
            report.notes.append(text.replace("will write", "wrote"))
        self.recorder.instrument(runtime.channel, supported)
        live = Live(report, runtime, sim, market, supported, self.recorder)
        SetupChecks(live).run()
        if catalog:
            CatalogChecks(live).run()
        if orders:
            OrderChecks(live).run()


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
