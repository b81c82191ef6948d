"""THE flow registry: every task the app's workers run, declared once, one line each.

A declaration says what the task is called (Akinon's names, so Flower scripts written for
Akinon's template keep working), what it runs, its default schedule and its interval under
``channel-app dev``. Everything else is generated from :data:`FLOWS`: the Celery tasks
(:mod:`channel_app_template.tasks`), beat's default schedule and the names ``BEAT_SCHEDULE``
may use (:mod:`channel_app_template.schedule`), the runner's jobs and locks
(:mod:`channel_app_template.core.run.runner`), ``channel-app trigger``'s short names and
the dev stack's intervals. Adding a flow is adding a line here.

Declarations only, on purpose: the CLI and beat read this module, and only the worker
loads the engines a flow runs (the runner resolves each :class:`Runs`).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from channel_app_template.schedule_values import Interval, value_problem

__all__ = [
    "FLOWS",
    "MANUAL",
    "TASK_PREFIX",
    "ContentLock",
    "Flow",
    "Registry",
    "Runs",
    "Work",
    "catalog",
    "events",
    "order_side",
    "orders",
    "resend",
    "setup",
    "tool",
]

TASK_PREFIX = "channel_app_template.app.tasks."
"""Every task's name is this plus the flow's name (Akinon's template used the same)."""
MANUAL: Interval = None
"""A flow beat does not run unless ``BEAT_SCHEDULE`` schedules it: operators run it."""


class Work(enum.StrEnum):
    """Which kind of job a flow is; the runner builds each kind (tools are in tasks.py)."""

    CATALOG = "catalog"  # the catalog engine on one resource: (resource, *kinds)
    SETUP = "setup"  # the setup flow of the same name
    ORDERS = "orders"  # marketplace orders into Omnitron
    EVENTS = "events"  # marketplace order events into Omnitron: (OrderEvents method, ledger)
    RESEND = "resend"  # an operator's re-send of failed catalog objects, now
    TOOL = "tool"  # a task with a signature of its own (tasks.py); no lock, no budget


@dataclass(frozen=True)
class ContentLock:
    """The lock shared by every flow that opens Omnitron batch requests of ``resource``'s
    content type (Omnitron allows one committed batch per content type)."""

    resource: str


@dataclass(frozen=True)
class Runs:
    """What a flow runs. ``lock`` None: the kind's own (a catalog resource's content type,
    ``setup:<name>``; the re-send locks the content type it is asked to re-send)."""

    work: Work
    args: tuple[str, ...] = ()
    lock: str | ContentLock | None = None


def catalog(resource: str, *kinds: str) -> Runs:
    """The catalog engine on ``resource``; ``kinds`` in order, among "inserts", "updates",
    "deleted" (deletions), "retry" (failed objects whose dependencies changed), "check"."""
    return Runs(Work.CATALOG, (resource, *kinds), ContentLock(resource))


def order_side(resource: str) -> Runs:
    """The catalog engine sending ``resource``'s order-side changes (``orders``,
    ``cancellation_requests``) back to the channel: one send run, whose summary's kind is
    "updates" (there are no inserts on the order side)."""
    return catalog(resource, "updates")


def setup() -> Runs:
    return Runs(Work.SETUP)


def orders() -> Runs:
    """Order intake records order mappings in batches of the orders' content type, so it
    never runs beside outbound order updates."""
    return Runs(Work.ORDERS, lock=ContentLock("orders"))


def events(method: str, ledger: str, lock: str | ContentLock) -> Runs:
    return Runs(Work.EVENTS, (method, ledger), lock)


def resend() -> Runs:
    return Runs(Work.RESEND)


def tool() -> Runs:
    return Runs(Work.TOOL)


@dataclass(frozen=True)
class Flow:
    """One task. ``dev``: seconds between runs under ``channel-app dev`` (None: as by
    default); ``kickoff``: sent once, in declaration order, when ``channel-app dev``
    starts (beat's first interval run would come only after an interval)."""

    name: str
    runs: Runs
    schedule: Interval
    dev: float | None = None
    kickoff: bool = False

    @property
    def task_name(self) -> str:
        return TASK_PREFIX + self.name


class Registry:
    """The flows, checked when declared: unique names, schedules within the bounds
    ``BEAT_SCHEDULE`` has (a default is a value like any other)."""

    def __init__(self, *flows: Flow) -> None:
        problems = [p for flow in flows for p in _problems(flow)]
        counts = Counter(flow.name for flow in flows)
        problems += [f"{name}: declared {n} times" for name, n in counts.items() if n > 1]
        if problems:
            raise ValueError("flow registry: " + "; ".join(problems))
        self._flows = {flow.name: flow for flow in flows}

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())

    def __len__(self) -> int:
        return len(self._flows)

    def __contains__(self, name: object) -> bool:
        return name in self._flows

    def __getitem__(self, name: str) -> Flow:
        return self._flows[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._flows)

    def task_name(self, name: str) -> str:
        """The full task name of flow ``name``; ``KeyError`` for a flow nobody declared."""
        return self[name].task_name

    def default_schedule(self) -> dict[str, Interval]:
        return {f.name: f.schedule for f in self if f.schedule is not MANUAL}

    def manual(self) -> tuple[str, ...]:
        return tuple(f.name for f in self if f.schedule is MANUAL)

    def dev_schedule(self) -> dict[str, float]:
        return {f.name: f.dev for f in self if f.dev is not None}

    def kickoff(self) -> tuple[str, ...]:
        return tuple(f.name for f in self if f.kickoff)


def _problems(flow: Flow) -> list[str]:
    found = [value_problem(flow.name, flow.schedule)]
    if flow.dev is not None:
        found.append(value_problem(f"{flow.name} (dev)", float(flow.dev)))
    if not flow.name.isidentifier():
        found.append(f"{flow.name[:80]!r} is not a Python identifier")
    return [p for p in found if p is not None]


SYNC = ("inserts", "updates", "retry")
"""A catalog resource's scheduled run: new objects, changed ones, then failed ones whose
dependencies changed."""
ITEM_UPDATES = events("update_order_items", "item_updates", "orders:item_updates")
CANCELLATIONS = events("cancel", "cancellations", "orders:cancel")
CANCELLATION_REQUESTS = events(
    "create_cancellation_requests", "cancellation_requests", ContentLock("cancellation_requests")
)

FLOWS = Registry(
    # Setup: nightly; channel-app dev sends the first three once at start, in this order.
    Flow("update_channel_conf_schema", setup(), "5 3 * * *", dev=3600, kickoff=True),
    Flow("create_or_update_category_tree_and_nodes", setup(), "15 3 * * *", dev=3600, kickoff=True),
    Flow("create_or_update_category_attributes", setup(), "30 3 * * *", dev=3600, kickoff=True),
    Flow("create_or_update_attributes", setup(), "45 3 * * *", dev=3600),
    # Catalog: insert_and_update_* covers updates, so update_* are for manual runs; checks
    # run often, they are cheap when nothing is pending.
    Flow("insert_and_update_products", catalog("products", *SYNC), 300, dev=15),
    Flow("update_products", catalog("products", "updates"), MANUAL),
    Flow("check_products", catalog("products", "check"), 120, dev=10),
    Flow("delete_products", catalog("deleted_products", "deleted"), 900, dev=60),
    Flow("check_delete_products", catalog("deleted_products", "check"), 300, dev=30),
    Flow("insert_and_update_stocks", catalog("stocks", *SYNC), 120, dev=20),
    Flow("update_stocks", catalog("stocks", "updates"), MANUAL),
    Flow("check_stocks", catalog("stocks", "check"), 120, dev=20),
    Flow("insert_and_update_prices", catalog("prices", *SYNC), 120, dev=20),
    Flow("update_prices", catalog("prices", "updates"), MANUAL),
    Flow("check_prices", catalog("prices", "check"), 120, dev=20),
    Flow("insert_and_update_images", catalog("images", *SYNC), 900, dev=30),
    Flow("update_images", catalog("images", "updates"), MANUAL),
    Flow("check_images", catalog("images", "check"), 300, dev=30),
    # Orders: the marketplace's orders and events in, Omnitron's changes out.
    Flow("fetch_orders", orders(), 60, dev=10),
    Flow("update_orders", order_side("orders"), 120, dev=20),
    Flow("check_orders", catalog("orders", "check"), 120, dev=20),
    Flow("fetch_and_update_order_items", ITEM_UPDATES, 120, dev=30),
    Flow("fetch_and_create_cancel", CANCELLATIONS, 120, dev=30),
    Flow("fetch_and_create_cancellation_requests", CANCELLATION_REQUESTS, 300, dev=60),
    Flow("update_cancellation_requests", order_side("cancellation_requests"), 300, dev=60),
    # Operators' tools.
    Flow("resend_failed", resend(), MANUAL),
    Flow("list_parked_orders", tool(), MANUAL),
    Flow("retry_parked_orders", tool(), MANUAL),
    Flow("ping", tool(), MANUAL),
)
