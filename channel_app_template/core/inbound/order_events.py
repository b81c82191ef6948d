"""What happens to orders after ingestion, from the marketplace to Omnitron.

* ``fetch_and_update_order_items``: line status, invoice and tracking changes. Applying
  absolute values twice changes nothing, so a repeat after a crash is harmless.
* ``fetch_and_create_cancel``: cancelled units. A cancellation says how many units of a
  line are cancelled in total; only the difference to what Omnitron already cancelled is
  cancelled now, so the same event applied twice cancels nothing more.
* ``fetch_and_create_cancellation_requests``: buyers' cancel/return requests, created in
  Omnitron once (looked up by remote id first) and mapped, so Omnitron's decision on them
  later flows back through ``update_cancellation_requests`` (an engine resource).

Every event is acknowledged on the marketplace only after Omnitron has it; one that keeps
failing is reported (once per problem) and eventually parked, like an order. An event the
channel could not read arrives as a :class:`MalformedEventDto`: reported, never
acknowledged, parked after its attempts; the events around it go on.

Pages overlap, as order pages do: the next page's events start while the previous page's
are still applied, up to ``ORDER_IN_FLIGHT`` events not yet acknowledged. The events of
one target (a line, an order, a request) still apply one after the other in the order
they came, across pages too, and pages are acknowledged in order on the caller's thread.

Runs have a budget, as order ingestion does: once it is spent no new event is started,
the ones handled are acknowledged (and created requests mapped, their batch closed), and
the run raises :class:`~channel_app_template.core.budget.BudgetExceeded`. Log lines carry
``flow``, ``event`` and ``batch`` fields, never personal data.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channel_app_template.akinon.models import ContentType, OrderItem, Tracked
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import (
    CancellationRequestDto,
    CancelOrderDto,
    ChannelIntegration,
    ChannelUpdateOrderItemDto,
    MalformedEventDto,
)
from channel_app_template.core.budget import Budget
from channel_app_template.core.inbound.budget_gate import Gate
from channel_app_template.core.inbound.ledger import Ledger
from channel_app_template.core.inbound.pipeline import FollowUp, PagePipeline
from channel_app_template.core.inbound.summary import RunSummary
from channel_app_template.errors import AmbiguousWriteError, ChannelAppError, ItemError, RetryLater
from channel_app_template.order_bounds import DEFAULT_IN_FLIGHT

__all__ = ["CANCELLATIONS", "CANCELLATION_REQUESTS", "ITEM_UPDATES", "EventSummary", "OrderEvents"]

logger = logging.getLogger(__name__)

CANCELLED = "100"
E = TypeVar("E")
Outcomes = Mapping[str, ChannelAppError | bool]  # event key -> error, or whether it changed
Pending = Callable[[], Outcomes]  # waits for a page's events, then says how each went
Applied = list[tuple[str, ChannelAppError | bool]]  # one target's events, in turn


@dataclass(frozen=True)
class EventKind:
    """One kind of marketplace event: the channel commands that read and acknowledge it,
    the task (flow) that runs it (for log lines), and how an event is named: ``key`` in
    the ledger and in error reports, ``ack_id`` when it is acknowledged."""

    command: str
    acknowledge: str
    flow: str
    key: Callable[[Any], str]
    ack_id: Callable[[Any], str]

    @property
    def report_name(self) -> str:
        """``GetUpdatedOrderItems``: the command as error report codes spell it."""
        return "".join(part.title() for part in self.command.split("_"))


ITEM_UPDATES = EventKind(
    "get_updated_order_items",
    "acknowledge_order_item_updates",
    "fetch_and_update_order_items",
    key=lambda e: e.event_id or e.remote_id,
    ack_id=lambda e: e.event_id,
)
CANCELLATIONS = EventKind(
    "get_cancelled_orders",
    "acknowledge_cancelled_orders",
    "fetch_and_create_cancel",
    key=lambda e: e.event_id or e.order,
    ack_id=lambda e: e.event_id,
)
CANCELLATION_REQUESTS = EventKind(
    "get_cancellation_requests",
    "acknowledge_cancellation_requests",
    "fetch_and_create_cancellation_requests",
    key=lambda e: e.remote_id,
    ack_id=lambda e: e.remote_id,
)


@dataclass
class EventSummary(RunSummary):
    received: int = 0
    applied: int = 0
    unchanged: int = 0
    acknowledged: int = 0
    failed: int = 0
    malformed: int = 0
    parked: int = 0
    skipped_parked: int = 0
    deferred: int = 0  # not started: the run's budget was spent
    errors: list[str] = field(default_factory=list)


class OrderEvents:
    def __init__(
        self,
        omnitron: OmnitronIntegration,
        channel: ChannelIntegration,
        ledger: Ledger,
        page_size: int = 100,
        budget: Budget | None = None,
        in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.omnitron = omnitron
        self.channel = channel
        self.ledger = ledger
        self.page_size = page_size
        self.in_flight = in_flight  # ORDER_IN_FLIGHT: events admitted, not yet acknowledged
        self.channel_id = omnitron.channel_id
        self.gate = Gate(budget)
        # target -> its last group of events started (a later page's wait for it)
        self._chains: dict[str, Future[Applied]] = {}

    # --- The shared loop ------------------------------------------------------------

    def _run(self, kind: EventKind, apply: Callable[[Sequence[Any]], Pending]) -> EventSummary:
        """Every page: skip parked events, fail malformed ones, start the rest; once they
        are applied (an event missing from the outcomes was not started: deferred), mark
        the applied ones done and acknowledge them, page after page."""
        summary = EventSummary()
        if not self.channel.supports(kind.command):
            summary.note(f"the channel does not support {kind.command}")
            return summary
        self._chains = {}
        pipeline = PagePipeline(self.in_flight, overlap=self.omnitron.parallel)
        self.gate.run_pages(
            getattr(self.channel, kind.command),
            min(self.page_size, self.in_flight),
            lambda page: self._page(kind, apply, page, summary, pipeline),
            flow=kind.flow,
            counts=summary.counts,
            log=logger,
            kept="what it applied is acknowledged",
            settle=pipeline.drain,
        )
        return summary

    def _page(
        self,
        kind: EventKind,
        apply_page: Callable[[Sequence[Any]], Pending],
        page: Sequence[Any],
        summary: EventSummary,
        pipeline: PagePipeline,
    ) -> None:
        """Screen ``page`` and start its events; the rest happens in :meth:`_close_page`
        once they are applied and the pages before it are closed."""
        wanted = []
        names = [e.key if isinstance(e, MalformedEventDto) else kind.key(e) for e in page]
        parked = self.ledger.parked_among(names)
        for event, name in zip(page, names, strict=True):
            summary.received += 1
            if name in parked:
                summary.skipped_parked += 1
            elif isinstance(event, MalformedEventDto):
                if not self.gate.may_start():
                    summary.deferred += 1
                    continue
                summary.malformed += 1
                message = f"the marketplace sent an event we cannot read: {event.message}"
                self._failed(kind, name, ItemError(message), summary, raw=event.raw)
                self.gate.progressed()
            else:
                wanted.append(event)
        pipeline.admit(len(page))
        pending = apply_page(wanted) if wanted else dict

        def close() -> FollowUp:
            outcomes = pending()
            return lambda: self._close_page(kind, wanted, outcomes, summary)

        pipeline.close(len(page), close)

    def _close_page(
        self, kind: EventKind, wanted: Sequence[Any], outcomes: Outcomes, summary: EventSummary
    ) -> None:
        """Count how the page's events went, mark the applied ones done, acknowledge them."""
        done = []
        for event in wanted:
            outcome = outcomes.get(kind.key(event))
            if outcome is None:
                summary.deferred += 1
                continue
            if isinstance(outcome, ChannelAppError):
                self._failed(kind, kind.key(event), outcome, summary)
            else:
                done.append(event)
                if outcome:
                    summary.applied += 1
                else:
                    summary.unchanged += 1
            self.gate.progressed()
        self.ledger.succeeded([kind.key(e) for e in done])
        ids = [kind.ack_id(e) for e in done if kind.ack_id(e)]
        if ids and self.channel.supports(kind.acknowledge):
            getattr(self.channel, kind.acknowledge)(ids)
            summary.acknowledged += len(ids)
            logger.info(
                "%d events acknowledged on the marketplace",
                len(ids),
                extra={"flow": kind.flow, "events": ids},
            )
            self.gate.progressed()

    def _failed(
        self,
        kind: EventKind,
        key: str,
        error: ChannelAppError,
        summary: EventSummary,
        *,
        raw: str = "",
    ) -> None:
        flow = kind.flow
        summary.failed += 1
        summary.note(f"{key}: {error.message}")
        if isinstance(error, RetryLater):
            logger.info(
                "event %s postponed to the next run",
                key,
                extra={"flow": flow, "event": key, "reason": "retry_later"},
            )
            return
        parked = self.ledger.failed(key, error.message)
        if parked:
            summary.parked += 1
        logger.warning(
            "event %s not applied (%s)%s",
            key,
            type(error).__name__,
            "; parked" if parked else "; retried next run",
            extra={"flow": flow, "event": key, "reason": type(error).__name__, "parked": parked},
        )
        if not self.ledger.first_report(key, error.message):
            return
        with contextlib.suppress(ChannelAppError):
            self.omnitron.report(
                ContentType.CHANNEL,
                self.channel_id,
                code=f"Channel-{kind.report_name}_{key}"[:255],
                description=(
                    f"{error.message} (the event is not acknowledged; it is retried on later "
                    f"runs and parked after {self.ledger.max_attempts} failed attempts)"
                ),
                raw_response=raw,
            )

    def _in_order_per_target(
        self,
        events: Sequence[E],
        target: Callable[[E], str],
        apply: Callable[[E], tuple[str, ChannelAppError | bool]],
    ) -> Pending:
        """Start ``apply`` on every event: the events of one target (line, order, request)
        one after the other in the order they came, after that target's events of earlier
        pages (the later one wins, a cancellation counts what the one before it
        cancelled), different targets concurrently on the port's pool. An event not
        started because the budget is spent is missing from the outcomes (deferred)."""
        groups: dict[str, list[E]] = defaultdict(list)
        for event in events:
            groups[target(event)].append(event)

        def in_turn(before: Future[Applied] | None, group: list[E]) -> Applied:
            if before is not None:
                wait([before])  # how it ended is its own page's to report
            done = []
            for event in group:
                if not self.gate.may_start():
                    break  # the rest are deferred
                done.append(apply(event))
            return done

        if not self.omnitron.parallel:
            now = {key: outcome for g in groups.values() for key, outcome in in_turn(None, g)}
            return lambda: now
        # A group waits only for groups submitted before it, which the pool (first in,
        # first out) has started by then: a wait never holds up what it waits for.
        self._chains = {name: f for name, f in self._chains.items() if not f.done()}
        pool = self.omnitron.executor()
        started = []
        for name, group in groups.items():
            future = pool.submit(in_turn, self._chains.get(name), group)
            self._chains[name] = future
            started.append(future)

        def outcomes() -> Outcomes:
            return {key: outcome for future in started for key, outcome in future.result()}

        return outcomes

    def _items_by_line(self, lines: Iterable[str]) -> dict[str, list[int]]:
        """Order line remote id -> Omnitron order item pks (one item per unit)."""
        found: dict[str, list[int]] = defaultdict(list)
        for action in self.omnitron.actions_by_remote_id(ContentType.ORDER_ITEM, lines):
            if action.object_id is not None and action.remote_id:
                found[action.remote_id].append(int(action.object_id))
        return found

    # --- Item updates -------------------------------------------------------------------

    def update_order_items(self) -> EventSummary:
        return self._run(ITEM_UPDATES, self._apply_item_updates)

    def _apply_item_updates(self, events: Sequence[ChannelUpdateOrderItemDto]) -> Pending:
        items = self._items_by_line(e.remote_id for e in events)

        def apply(event: ChannelUpdateOrderItemDto) -> tuple[str, ChannelAppError | bool]:
            return ITEM_UPDATES.key(event), self._update_line(event, items.get(event.remote_id))

        return self._in_order_per_target(events, lambda e: e.remote_id, apply)

    def _update_line(
        self, event: ChannelUpdateOrderItemDto, pks: list[int] | None
    ) -> ChannelAppError | bool:
        """Set the event's values on every unit of its line (absolute: safe to repeat)."""
        if not pks:
            return ItemError(f"order line {event.remote_id} is not in Omnitron")
        changes = {
            "status": event.status,
            "invoice_number": event.invoice_number,
            "invoice_date": event.invoice_date.isoformat() if event.invoice_date else None,
            "tracking_number": event.tracking_number,
        }
        try:
            for pk in pks:
                update: dict[str, Any] = dict(changes)
                if event.extra_field:  # merged: the line id in it is how we find the item
                    current = self.omnitron.order_item(pk).extra_field
                    update["extra_field"] = {
                        **current,
                        **event.extra_field,
                        "id": current.get("id", event.remote_id),
                    }
                self.omnitron.update_order_item(pk, update)
            return True
        except ChannelAppError as error:
            return error

    # --- Cancellations ------------------------------------------------------------------

    def cancel(self) -> EventSummary:
        return self._run(CANCELLATIONS, self._cancel_page)

    def _cancel_page(self, events: Sequence[CancelOrderDto]) -> Pending:
        orders: dict[str, set[int]] = defaultdict(set)  # one read for the page's orders
        mapped = self.omnitron.actions_by_remote_id(ContentType.ORDER, {e.order for e in events})
        for action in mapped:
            if action.object_id is not None and action.remote_id:
                orders[action.remote_id].add(int(action.object_id))
        return self._in_order_per_target(
            events,
            lambda e: e.order,
            lambda e: (CANCELLATIONS.key(e), self._cancel_one(e, set(orders.get(e.order, ())))),
        )

    def _cancel_one(self, event: CancelOrderDto, order_pks: set[int]) -> ChannelAppError | bool:
        """Cancel what the event cancels and Omnitron has not (its items read afresh)."""
        try:
            if len(order_pks) != 1:
                return ItemError(f"order {event.order} is not (exactly once) in Omnitron")
            order_pk = order_pks.pop()
            items = self.omnitron.order_items_of([order_pk]).get(order_pk, [])
            to_cancel, reasons = self._units_to_cancel(event, items)
            if not to_cancel:
                return False
            try:
                self.omnitron.cancel_order(
                    order_pk,
                    to_cancel,
                    reasons,
                    None if event.forced_refund_amount is None else str(event.forced_refund_amount),
                )
            except AmbiguousWriteError:
                raise RetryLater(
                    "the cancellation may have been applied; the next run "
                    "counts again and cancels only what is missing"
                ) from None
            return True
        except ChannelAppError as error:
            return error

    def _units_to_cancel(
        self, event: CancelOrderDto, items: Sequence[OrderItem]
    ) -> tuple[list[int], dict[int, int]]:
        by_line: dict[str, list[OrderItem]] = defaultdict(list)
        for item in items:
            by_line[str(item.extra_field.get("id") or "")].append(item)
        mapping, fallback = self.channel.config.reason_ids()
        to_cancel: list[int] = []
        reasons: dict[int, int] = {}
        for line in event.cancel_items:
            units = sorted(by_line.get(line, []), key=lambda i: int(i.pk or 0))
            if not units:
                raise ItemError(f"order line {line} is not in Omnitron")
            wanted = min(event.quantities.get(line, len(units)), len(units))
            already = sum(1 for unit in units if unit.status == CANCELLED)
            fresh = [int(u.pk or 0) for u in units if u.status != CANCELLED][
                : max(0, wanted - already)
            ]
            code = event.reasons.get(line)
            reason = mapping.get(code or "", fallback)
            for pk in fresh:
                to_cancel.append(pk)
                if reason is not None:
                    reasons[pk] = reason
        return to_cancel, reasons

    # --- Cancellation requests ----------------------------------------------------------

    def create_cancellation_requests(self) -> EventSummary:
        return self._run(CANCELLATION_REQUESTS, self._create_requests)

    def _create_requests(self, requests: Sequence[CancellationRequestDto]) -> Pending:
        items = self._items_by_line(r.order_item for r in requests)
        mapping, fallback = self.channel.config.reason_ids()
        held: list[tuple[Tracked, str]] = []  # appended to by the pool's threads

        def apply(request: CancellationRequestDto) -> tuple[str, ChannelAppError | bool]:
            try:
                existing = self.omnitron.cancellation_request(request.remote_id)
                created = existing is None
                if existing is None:
                    pks = items.get(request.order_item)
                    if not pks:
                        raise ItemError(f"order line {request.order_item} is not in Omnitron")
                    existing = self.omnitron.create_cancellation_request(
                        {
                            "order_item": min(pks),
                            "reason": mapping.get(request.reason, fallback),
                            "remote_id": request.remote_id,
                            "description": request.description,
                            "cancellation_type": request.cancellation_type,
                        }
                    )
                if existing.pk is not None:
                    model, stamp = ContentType.CANCELLATION_REQUEST, existing.modified_date
                    held.append((Tracked(existing.pk, model, stamp), request.remote_id))
                return request.remote_id, created
            except ChannelAppError as error:
                return request.remote_id, error

        pending = self._in_order_per_target(requests, lambda r: r.remote_id, apply)

        def mapped() -> Outcomes:
            # the ones handled are mapped (one batch at a time: pages close in turn), the
            # rest (budget spent) are deferred
            outcomes = pending()
            self._map_requests(held)
            return outcomes

        return mapped

    def _map_requests(self, held: list[tuple[Tracked, str]]) -> None:
        model = ContentType.CANCELLATION_REQUEST
        mapped = self.omnitron.remote_ids(model, [tracked.pk for tracked, _ in held])
        missing = [(tracked, remote) for tracked, remote in held if tracked.pk not in mapped]
        if not missing:
            return
        batch = self.omnitron.record_mappings(model, missing)
        logger.info(
            "mappings of %d cancellation requests recorded in batch %s",
            len(missing),
            batch.pk,
            extra={
                "flow": CANCELLATION_REQUESTS.flow,
                "batch": batch.pk,
                "requests": len(missing),
            },
        )
