"""Order ingestion: each marketplace order becomes exactly one Omnitron order.

For every page of new marketplace orders:

1. Look the orders up in Omnitron by number (one request for the page). An order that
   exists is never created again, whatever happened before: a crash after the create,
   a lost answer, an overlapping run.
2. Lock the missing ones (one Redis round trip for the page) and look them up again,
   inside their locks, in one ``number__in`` request; then create those still missing,
   concurrently, each still under its lock (checked not to have lapsed right before the
   create): customer (one bulk look-up per page, then get or create by the channel's
   identifier field), addresses (locations resolved, duplicates detected by Omnitron),
   cargo by ``erp_code``, products by their mapping. A create whose outcome is unknown
   is looked up, never repeated; if it is not found it waits for the next run, which
   looks again first.
3. Record the mappings (order and item integration actions) in one batch request, for
   new orders and for existing ones that lack them (repairs a crash in between).
4. Only then acknowledge the orders on the marketplace.

Pages overlap (:class:`~channel_app_template.core.inbound.pipeline.PagePipeline`): while
one page's mappings are recorded (3, on one closing thread, so one committed batch at a
time), the next page is looked up and created (1-2); acknowledgements (4) run on the
flow's thread, which owns the marketplace client, after their page's mappings. At most
``ORDER_IN_FLIGHT`` orders are admitted and not yet acknowledged; an order listed again
while its first copy is in flight is left to that copy.

Before anything is created, each order is checked against what one order may cost
(``ORDER_MAX_LINE_QUANTITY`` units per line, ``ORDER_MAX_UNITS`` per order; see
:mod:`channel_app_template.order_bounds`): the units are counted, never expanded, so
a line of 10**12 units costs nothing. An order that fails (over a limit, malformed, or
refused) gets one error report per problem and is retried on later runs; after
``max_attempts`` it is parked (see :mod:`channel_app_template.core.inbound.ledger`). It is never
acknowledged, so the marketplace keeps it: nothing is dropped.

A run has a :class:`~channel_app_template.core.budget.Budget`: once it is spent no new
order is started, the orders already handled are mapped and acknowledged as usual, and
the run raises :class:`~channel_app_template.core.budget.BudgetExceeded`.

Log lines carry ``flow``, ``order`` (its number), ``batch`` and counts as structured
fields, and never the buyer's name, e-mail, phone or address: error texts, which may
quote them, go to Omnitron's error report, not to the log.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from channel_app_template.akinon.models import (
    BatchRequestStatus,
    ContentType,
    Customer,
    CustomerIdentifierField,
    Order,
    OrderItem,
    Tracked,
)
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.channel import (
    AddressDto,
    ChannelCreateOrderDto,
    ChannelIntegration,
    CustomerDto,
    MalformedOrderDto,
)
from channel_app_template.core.budget import Budget
from channel_app_template.core.inbound.budget_gate import Gate
from channel_app_template.core.inbound.ledger import Ledger
from channel_app_template.core.inbound.locations import LocationResolver
from channel_app_template.core.inbound.pipeline import FollowUp, PagePipeline
from channel_app_template.core.inbound.summary import RunSummary
from channel_app_template.errors import ChannelAppError, ItemError, RetryLater
from channel_app_template.order_bounds import (
    DEFAULT_IN_FLIGHT,
    DEFAULT_MAX_LINE_QUANTITY,
    DEFAULT_MAX_UNITS,
)

if TYPE_CHECKING:
    from channel_app_template.settings import Settings

__all__ = ["FLOW", "IngestSummary", "OrderIngestion", "OrderOptions"]

logger = logging.getLogger(__name__)

FLOW = "fetch_orders"


@dataclass(frozen=True)
class OrderOptions:
    customer_identifier: str = "email"  # or "phone_number" (channel.conf CUSTOMER_IDENTIFIER_FIELD)
    page_size: int = 50
    max_line_quantity: int = DEFAULT_MAX_LINE_QUANTITY  # ORDER_MAX_LINE_QUANTITY
    max_units: int = DEFAULT_MAX_UNITS  # ORDER_MAX_UNITS
    in_flight: int = DEFAULT_IN_FLIGHT  # ORDER_IN_FLIGHT: admitted, not yet acknowledged

    @classmethod
    def from_settings(cls, settings: Settings, customer_identifier: str) -> OrderOptions:
        """The options a task run uses."""
        return cls(
            customer_identifier=customer_identifier,
            max_line_quantity=settings.order_max_line_quantity,
            max_units=settings.order_max_units,
            in_flight=settings.order_in_flight,
        )


@dataclass
class IngestSummary(RunSummary):
    received: int = 0
    created: int = 0
    already_in_omnitron: int = 0
    mappings_recorded: int = 0
    acknowledged: int = 0
    failed: int = 0
    malformed: int = 0
    parked: int = 0
    skipped_parked: int = 0
    postponed: int = 0
    over_limits: int = 0
    deferred: int = 0  # not started: the run's budget was spent
    repeated: int = 0  # listed again while the same order was still in flight
    errors: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    dto: ChannelCreateOrderDto
    order: Order | None = None
    created: bool = False
    error: ChannelAppError | None = None
    deferred: bool = False


@dataclass
class _Held:
    tokens: dict[str, str]  # number -> lock token, for the orders still to create
    found: dict[str, Order]  # orders the look-up inside the locks found


class OrderIngestion:
    """``fetch_orders``: marketplace orders into Omnitron, exactly once."""

    def __init__(
        self,
        omnitron: OmnitronIntegration,
        channel: ChannelIntegration,
        ledger: Ledger,
        options: OrderOptions,
        budget: Budget | None = None,
    ) -> None:
        self.omnitron = omnitron
        self.channel = channel
        self.ledger = ledger
        self.options = options
        self.gate = Gate(budget)
        self.channel_id = omnitron.channel_id
        self.locations = LocationResolver(omnitron, self.channel_id)
        self._customers: dict[str, Customer] = {}
        self._customer_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._cargos: dict[str, int] | None = None
        self._tried_customers: set[str] = set()  # a bulk "absent" is trusted once only
        self._flying: set[str] = set()  # numbers admitted and not yet closed
        self._summary = IngestSummary()

    def run(self) -> IngestSummary:
        summary = self._summary = IngestSummary()
        if not self.channel.supports("get_orders"):
            summary.note("the channel does not support get_orders")
            return summary
        pipeline = PagePipeline(self.options.in_flight, overlap=self.omnitron.parallel)
        self.gate.run_pages(
            self._orders,
            min(self.options.page_size, self.options.in_flight),
            lambda page: self._page(page, pipeline),
            flow=FLOW,
            counts=summary.counts,
            log=logger,
            kept="what it did is mapped and acknowledged",
            settle=pipeline.drain,
        )
        return summary

    def _counted(self, part: IngestSummary) -> None:
        with self._lock:
            self._summary.merge(part)

    def _orders(self) -> Iterable[ChannelCreateOrderDto | MalformedOrderDto]:
        """The marketplace's orders, once a crashed run's mapping batch is failed."""
        self._repair()
        return self.channel.get_orders()

    # --- One page ---------------------------------------------------------------------

    def _page(
        self,
        page: Sequence[ChannelCreateOrderDto | MalformedOrderDto],
        pipeline: PagePipeline,
    ) -> None:
        """Admit the page, look it up and start its creates; its closing part (outcomes,
        mappings) runs on the pipeline while the next page starts, and the pipeline hands
        its acknowledgement back to this thread afterwards."""
        pipeline.admit(len(page))
        summary = IngestSummary()
        admitted: list[str] = []
        try:
            started = self._start(page, summary, admitted)
        except BaseException:
            self._counted(summary)
            self._land(admitted)
            pipeline.close(len(page), lambda: None)
            raise
        self._counted(summary)
        pipeline.close(len(page), lambda: self._close(started, admitted))

    def _land(self, numbers: Iterable[str]) -> None:
        with self._lock:
            self._flying.difference_update(numbers)

    def _start(
        self,
        page: Sequence[ChannelCreateOrderDto | MalformedOrderDto],
        summary: IngestSummary,
        admitted: list[str],
    ) -> list[Future[_Outcome]]:
        """Stage one of a page, on the caller's thread: filters, bulk look-ups, limits;
        the creates are handed to the pool (their futures are returned)."""
        wanted: list[ChannelCreateOrderDto] = []
        numbers = [
            entry.order.number if isinstance(entry, ChannelCreateOrderDto) else entry.number
            for entry in page
        ]
        parked = self.ledger.parked_among(numbers)
        for entry, number in zip(page, numbers, strict=True):
            summary.received += 1
            with self._lock:
                repeated = number in self._flying
                if not repeated:
                    self._flying.add(number)
                    admitted.append(number)
            if repeated:  # the earlier copy is created, mapped and acknowledged
                summary.repeated += 1
                self.gate.progressed()
            elif number in parked:
                summary.skipped_parked += 1
            elif not self.gate.may_start():
                summary.deferred += 1
            elif isinstance(entry, MalformedOrderDto):
                summary.malformed += 1
                self._failed(
                    number,
                    f"the marketplace sent an order we cannot read: {entry.message}",
                    summary,
                    kind="malformed",
                    raw=entry.raw,
                )
                self.gate.progressed()
            else:
                wanted.append(entry)
        if not wanted:
            return []
        existing = self.omnitron.orders_by_number([dto.order.number for dto in wanted])
        fit: list[ChannelCreateOrderDto] = []
        for dto in wanted:
            problems = [] if dto.order.number in existing else self._over_limits(dto)
            if problems:
                summary.over_limits += 1
                self._failed(dto.order.number, "; ".join(problems), summary, kind="over_limits")
                self.gate.progressed()
            else:
                fit.append(dto)
        products = self._products(
            {
                line.product
                for dto in fit
                if dto.order.number not in existing
                for line in dto.order_item
            }
        )
        customers = self._prefetch_customers(
            [dto.order.customer for dto in fit if dto.order.number not in existing]
        )
        held = self._hold([dto.order.number for dto in fit if dto.order.number not in existing])
        existing.update(held.found)
        pool = self.omnitron.executor()
        return [
            pool.submit(
                self._ensure, dto, existing, held.tokens.get(dto.order.number), products, customers
            )
            for dto in fit
        ]

    def _hold(self, numbers: Sequence[str]) -> _Held:
        """Lock the orders to create (one Redis round trip), then look them up again in
        one request, inside their locks: one found now is not created (and let go); the
        others stay locked until their create ends (see :meth:`_ensure`)."""
        tokens = self.ledger.hold(numbers)
        try:
            found = self.omnitron.orders_by_number(list(tokens)) if tokens else {}
        except BaseException:
            self._let_go(tokens)
            raise
        self._let_go({number: tokens.pop(number) for number in found if number in tokens})
        return _Held(tokens, found)

    def _let_go(self, tokens: Mapping[str, str]) -> None:
        for number, token in tokens.items():
            self.ledger.let_go(number, token)

    def _close(
        self, started: Sequence[Future[_Outcome]], admitted: Sequence[str]
    ) -> FollowUp | None:
        """Stage two of a page, one page at a time: count the outcomes and record the
        mappings; the acknowledgement it returns runs after that (the guarantee's order)."""
        summary = IngestSummary()
        try:
            return self._settle([future.result() for future in started], summary)
        finally:
            self._counted(summary)
            self._land(admitted)

    def _settle(self, outcomes: Sequence[_Outcome], summary: IngestSummary) -> FollowUp | None:
        ready: list[_Outcome] = []
        for outcome in outcomes:
            number = outcome.dto.order.number
            if outcome.deferred:
                summary.deferred += 1
                continue
            if outcome.order is not None:
                ready.append(outcome)
                if outcome.created:
                    summary.created += 1
                    logger.info(
                        "order %s created in Omnitron",
                        number,
                        extra={"flow": FLOW, "order": number, "units": _units(outcome.dto)},
                    )
                else:
                    summary.already_in_omnitron += 1
            elif isinstance(outcome.error, RetryLater):
                summary.postponed += 1
                summary.note(f"{number}: {outcome.error.message}")
                logger.info(
                    "order %s postponed to the next run",
                    number,
                    extra={"flow": FLOW, "order": number, "reason": "retry_later"},
                )
            else:
                message = outcome.error.message if outcome.error else "unknown failure"
                kind = type(outcome.error).__name__ if outcome.error else "unknown"
                self._failed(number, message, summary, kind=kind)
            self.gate.progressed()
        if not ready:
            return None
        batch, recorded = self._record_mappings(ready)
        summary.mappings_recorded += recorded
        numbers = [o.dto.order.number for o in ready]
        self.ledger.succeeded(numbers)
        remote_ids = [o.dto.order.remote_id for o in ready]
        return lambda: self._acknowledge(remote_ids, numbers, batch)

    def _acknowledge(self, remote_ids: list[str], numbers: list[str], batch: int | None) -> None:
        """On the flow's thread (it owns the marketplace client), after the mappings."""
        if self.channel.supports("acknowledge_orders"):
            self.channel.acknowledge_orders(remote_ids)
            self._counted(IngestSummary(acknowledged=len(remote_ids)))
            logger.info(
                "%d orders acknowledged on the marketplace",
                len(remote_ids),
                extra={"flow": FLOW, "batch": batch, "orders": numbers},
            )
        self.gate.progressed()

    def _over_limits(self, dto: ChannelCreateOrderDto) -> list[str]:
        """What makes this order cost more than allowed, counted without expanding it."""
        limit, problems = self.options.max_line_quantity, []
        for line in dto.order_item:
            if line.quantity > limit:
                problems.append(
                    f"line {line.remote_id} has {line.quantity} units, more than "
                    f"ORDER_MAX_LINE_QUANTITY ({limit})"
                )
        units = _units(dto)
        if units > self.options.max_units:
            problems.append(
                f"the order has {units} units, more than ORDER_MAX_UNITS ({self.options.max_units})"
            )
        return problems

    def _failed(
        self, number: str, message: str, summary: IngestSummary, *, kind: str, raw: str = ""
    ) -> None:
        """Count a failed attempt; report it once per distinct problem; park it at the last."""
        summary.failed += 1
        summary.note(f"{number}: {message}")
        parked = self.ledger.failed(number, message)
        if parked:
            summary.parked += 1
        logger.warning(
            "order %s not created (%s)%s",
            number,
            kind,
            "; parked" if parked else "; retried next run",
            extra={"flow": FLOW, "order": number, "reason": kind, "parked": parked},
        )
        if not self.ledger.first_report(number, message):
            return
        description = (
            f"{message} (the order is not acknowledged; it is retried on later runs and "
            f"parked after {self.ledger.max_attempts} failed attempts until "
            "retry_parked_orders)"
        )
        with contextlib.suppress(ChannelAppError):
            self.omnitron.report(
                ContentType.CHANNEL,
                self.channel_id,
                code=f"Channel-GetOrders_{number}"[:255],
                description=description,
                raw_response=raw,
            )

    # --- Bulk look-ups ----------------------------------------------------------------

    def _products(self, remote_ids: Iterable[str]) -> dict[str, int]:
        """Channel product id -> Omnitron product pk, through the product mappings."""
        wanted = sorted(remote_ids)
        if not wanted:
            return {}
        return {
            str(action.remote_id): int(action.object_id)
            for action in self.omnitron.actions_by_remote_id(ContentType.PRODUCT, wanted)
            if action.object_id is not None and action.remote_id
        }

    def _cargo(self, erp_code: str) -> int:
        with self._lock:
            if self._cargos is None:
                self._cargos = {
                    str(c.erp_code): int(c.pk)
                    for c in self.omnitron.cargos()
                    if c.erp_code and c.pk is not None
                }
            cargos = self._cargos
        if erp_code not in cargos:
            raise ItemError(
                f"cargo company {erp_code!r} is unknown: add a cargo with that erp_code in Omnitron"
            )
        return cargos[erp_code]

    # --- One order ----------------------------------------------------------------------

    def _ensure(
        self,
        dto: ChannelCreateOrderDto,
        existing: Mapping[str, Order],
        token: str | None,
        products: Mapping[str, int],
        customers: Mapping[str, Customer | None],
    ) -> _Outcome:
        """The order, found or created under the lock :meth:`_hold` took (``token``), which
        this lets go of; an order it did not get is another worker's for now."""
        number = dto.order.number
        if number in existing:
            return _Outcome(dto, existing[number])
        if token is None:
            return _Outcome(
                dto, error=RetryLater("another worker is handling this order right now")
            )
        try:
            if not self.gate.may_start():
                return _Outcome(dto, deferred=True)
            if not self.ledger.still_held(number, token):
                # lapsed while queued: another worker may have created it since our look-up
                raise RetryLater("the order's lock lapsed before its create; looked up next run")
            return _Outcome(dto, self._create(dto, products, customers), created=True)
        except ChannelAppError as error:
            return _Outcome(dto, error=error)
        finally:
            self.ledger.let_go(number, token)

    def _create(
        self,
        dto: ChannelCreateOrderDto,
        products: Mapping[str, int],
        customers: Mapping[str, Customer | None],
    ) -> Order:
        order = dto.order
        items: list[dict[str, Any]] = []
        for line in dto.order_item:
            if line.product not in products:
                raise ItemError(
                    f"line {line.remote_id}: product {line.product!r} is not a "
                    "product this channel sent"
                )
            unit: dict[str, Any] = {
                "product": products[line.product],
                "status": line.status or "400",
                "price_currency": line.price_currency.lower(),
                "price": _decimal(line.price),
                "tax_rate": _decimal(line.tax_rate),
                "retail_price": _decimal(line.retail_price),
                "discount_amount": _decimal(line.discount_amount),
                "extra_field": {**line.extra_field, "id": line.remote_id},
            }
            items += [
                {**unit, "extra_field": {**unit["extra_field"], "unit": n}}
                for n in range(line.quantity)
            ]
        cargo = self._cargo(order.cargo_company)
        customer = self._customer(order.customer, customers)
        shipping = self._address(order.shipping_address, customer)
        billing = (
            shipping
            if order.billing_address == order.shipping_address
            else self._address(order.billing_address, customer)
        )
        body = {
            "number": order.number,
            "channel": self.channel_id,
            "status": "400",
            "customer": customer,
            "shipping_address": shipping,
            "billing_address": billing,
            "currency": order.currency.lower(),
            "amount": _decimal(order.amount),
            "shipping_amount": _decimal(order.shipping_amount),
            "shipping_tax_rate": _decimal(order.shipping_tax_rate),
            "discount_amount": _decimal(order.discount_amount or Decimal(0)),
            "cargo_company": cargo,
            "delivery_type": order.delivery_type,
            "notes": order.notes,
            "extra_field": {**order.extra_field, "id": order.remote_id},
            "date_placed": order.created_at.isoformat(),
        }
        return self.omnitron.create_order({k: v for k, v in body.items() if v is not None}, items)

    def _identity(self, customer: CustomerDto) -> tuple[CustomerIdentifierField, str | None]:
        """The field a customer is known by in Omnitron, and its value here."""
        by_phone = self.options.customer_identifier == "phone_number" and customer.phone_number
        field = CustomerIdentifierField.PHONE_NUMBER if by_phone else CustomerIdentifierField.EMAIL
        return field, customer.phone_number if by_phone else customer.email

    def _prefetch_customers(self, buyers: Sequence[CustomerDto]) -> dict[str, Customer | None]:
        """One bulk look-up for the page's buyers not met yet in this run: identifier ->
        the customer, or None when Omnitron has none (so the create skips its look-up)."""
        by_field: dict[CustomerIdentifierField, set[str]] = {}
        for buyer in buyers:
            field, identifier = self._identity(buyer)
            if identifier and identifier.strip() and "," not in identifier:
                by_field.setdefault(field, set()).add(identifier)
        known: dict[str, Customer | None] = {}
        for field, identifiers in by_field.items():
            with self._lock:
                fresh = sorted(i for i in identifiers if i not in self._customers)
            if fresh:
                found = self.omnitron.customers_by(field, fresh)
                known.update({identifier: found.get(identifier) for identifier in fresh})
        return known

    def _customer(self, customer: CustomerDto, known: Mapping[str, Customer | None]) -> int:
        field, identifier = self._identity(customer)
        if not identifier or not identifier.strip():
            # an empty look-up would find (and reuse) somebody else's customer
            raise ItemError(f"the customer has no {field.value} to be identified by")
        with self._lock:
            guard = self._customer_locks.setdefault(identifier, threading.Lock())
        with guard:  # two orders of one new customer must not create it twice
            cached = self._customers.get(identifier)
            if cached is not None and cached.pk is not None:
                return int(cached.pk)
            prefetched = known.get(identifier)
            if prefetched is not None and prefetched.pk is not None:
                self._customers[identifier] = prefetched
                return int(prefetched.pk)
            # "absent" is only as fresh as the page's look-up: once an attempt for this
            # buyer failed (maybe after Omnitron created it), look again before creating
            absent = (
                identifier in known
                and known[identifier] is None
                and identifier not in self._tried_customers
            )
            self._tried_customers.add(identifier)
            body = {
                "email": customer.email,
                "phone_number": customer.phone_number,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "channel_code": customer.channel_code,
                "extra_field": customer.extra_field,
                "is_active": True,
            }
            found = self.omnitron.customer(
                field,
                identifier,
                {k: v for k, v in body.items() if v is not None},
                known_absent=absent,
            )
            self._customers[identifier] = found
            return int(found.pk or 0)

    def _address(self, address: AddressDto, customer: int) -> int:
        places = self.locations.resolve(
            address.country, address.city, address.township, address.district
        )
        body = {
            **address.model_dump(
                exclude={"country", "city", "township", "district"}, exclude_none=True
            ),
            **{k: v for k, v in places.items() if v is not None},
            "customer": customer,
        }
        return self.omnitron.create_address(body)

    # --- Mappings ---------------------------------------------------------------------

    def _record_mappings(self, ready: Sequence[_Outcome]) -> tuple[int | None, int]:
        """Order and item integration actions for orders that lack them, in one batch:
        (the batch's pk, or None when nothing was missing; orders mapped)."""
        by_pk = {int(o.order.pk): o for o in ready if o.order is not None and o.order.pk}
        mapped_orders = self.omnitron.remote_ids(ContentType.ORDER, by_pk)
        items = self.omnitron.order_items_of(list(by_pk))
        item_pks = [int(i.pk) for group in items.values() for i in group if i.pk is not None]
        mapped_items = self.omnitron.remote_ids(ContentType.ORDER_ITEM, item_pks)
        mapped: list[tuple[Tracked, str]] = []
        for pk, outcome in by_pk.items():
            assert outcome.order is not None
            own: list[OrderItem] = items.get(pk, [])
            missing = [i for i in own if i.pk is not None and int(i.pk) not in mapped_items]
            if pk in mapped_orders and not missing:
                continue
            order = Tracked(pk, ContentType.ORDER, outcome.order.modified_date)
            mapped.append((order, outcome.dto.order.remote_id))
            for item in own:
                line = str(item.extra_field.get("id") or "")
                if item.pk is not None and line:
                    unit = Tracked(int(item.pk), ContentType.ORDER_ITEM, item.modified_date)
                    mapped.append((unit, line))
        if not mapped:
            return None, 0
        batch = self.omnitron.record_mappings(ContentType.ORDER, mapped)
        orders = sum(1 for tracked, _ in mapped if tracked.model == ContentType.ORDER)
        logger.info(
            "mappings of %d orders recorded in batch %s",
            orders,
            batch.pk,
            extra={"flow": FLOW, "batch": batch.pk, "orders": orders, "actions": len(mapped)},
        )
        return batch.pk, orders

    def _repair(self) -> None:
        """A crashed run may have left its mapping batch committed: fail it (the next
        page repairs the mappings of its orders, which exist)."""
        for batch in self.omnitron.batches([BatchRequestStatus.COMMIT], ContentType.ORDER):
            logger.warning(
                "order batch %s was left committed; failing it",
                batch.pk,
                extra={"flow": FLOW, "batch": batch.pk},
            )
            with contextlib.suppress(ChannelAppError):
                self.omnitron.abort(batch)


def _units(dto: ChannelCreateOrderDto) -> int:
    return sum(line.quantity for line in dto.order_item)


def _decimal(value: Decimal | None) -> str | None:
    """Fixed-point text (``1E+2`` is valid to Python, not to every JSON decimal parser)."""
    return None if value is None else format(value, "f")
