"""Order commands of the reference integration, as a mixin of :class:`ReferenceIntegration`.

What the marketplace offers (``sandbox/marketplace/orders/``) and how it maps:

* ``get_orders``: every unacknowledged order, oldest first, page by page (one page in memory),
  as :class:`ChannelCreateOrderDto`; a payload that cannot be read, or that fails DTO
  validation (a value out of its bounds: a negative price, an unknown currency, a quantity
  past the ceiling, two lines of one product, a 10 KB name...), becomes a
  :class:`MalformedOrderDto` (never an exception), so it fails alone.
  ``acknowledge_orders``: the bulk acknowledgement (idempotent).
* ``update_orders`` (``send_updated_orders``): Omnitron order-item statuses (one item per
  unit), tracking and invoice numbers become one absolute marketplace update per order: per
  line, the least advanced unit status (``order_status_mapping``) and the number of
  cancelled units.
  Synchronous: one result row per order, matched by number.
* ``get_updated_order_items`` / ``get_cancelled_orders``: the marketplace's ``line_update`` and
  ``cancellation`` events (quantity-aware: ``quantities`` holds the units cancelled in total);
  acknowledged by event id once applied.
* ``get_cancellation_requests``: buyers' claims (``return`` -> ``refund``); acknowledged by claim
  id. ``update_cancellation_request``: Omnitron's decision -> approve/reject
  (``claim_decision_mapping``).

Events and claims are read one by one too: one that does not parse, lacks what it needs
(a line update without its line, a cancellation without lines) or fails DTO validation
becomes a :class:`MalformedEventDto` keyed by its id; the engine reports it and never
acknowledges it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator

from channel_app_template.channel import (
    MAX_RAW_LENGTH as MAX_RAW,
    AddressDto,
    BatchRequestResponseDto,
    CancellationRequestDto,
    CancelOrderDto,
    ChannelCancellationRequestDto,
    ChannelConfig,
    ChannelCreateOrderDto,
    ChannelIntegration,
    ChannelOrderDto,
    ChannelUpdateOrderItemDto,
    CustomerDto,
    Dto,
    FailedReasonType,
    MalformedEventDto,
    MalformedOrderDto,
    OrderBatchRequestResponseDto,
    OrderItemDto,
    OrderUpdateItem,
    ResponseStatus,
)
from channel_app_template.channel.reference.marketplace_client import (
    MAX_ITEMS_PER_REQUEST,
    PEER,
    Claim,
    LineStatusUpdate,
    MarketOrder,
    MarketplaceClient,
    OrderAddress,
    OrderBulkResult,
    OrderEvent,
    OrderStatusUpdate,
    UnreadableOrder,
    UnreadableRow,
)
from channel_app_template.errors import NotFoundError, RunError

__all__ = ["ReferenceOrderCommands", "ReferenceOrderConfig", "order_dto"]

RowT = TypeVar("RowT", OrderEvent, Claim)
DtoT = TypeVar("DtoT", bound=Dto)
OrderConfigT = TypeVar("OrderConfigT", bound="ReferenceOrderConfig")

CANCELLED_CODES = frozenset({"100"})  # Omnitron order-item status "canceled"
PROGRESS = ("picking", "shipped", "delivered")  # marketplace statuses a seller may set

DEFAULT_ORDER_STATUS_MAPPING = {
    "450": "picking",  # preparing
    "500": "shipped",
    "510": "shipped",  # shipped_and_informed
    "520": "shipped",  # ready_for_pickup
    "540": "shipped",  # attempted_delivery
    "550": "delivered",
}
DEFAULT_ITEM_STATUS_MAPPING = {"picking": "450", "shipped": "500", "delivered": "550"}
DEFAULT_CLAIM_DECISION_MAPPING = {
    "approved": "approve",
    "confirmed": "approve",
    "completed": "approve",
    "rejected": "reject",
}
# The marketplace's reason codes -> the Omnitron simulator's seeded cancellation reasons.
DEFAULT_REASON_MAPPING = {
    "changed_mind": 1,
    "out_of_stock": 2,
    "payment_problem": 3,
    "damaged_item": 4,
    "wrong_item": 5,
    "not_as_described": 6,
    "late_delivery": 7,
    "size_problem": 8,
    "duplicate_order": 9,
    "other": 10,
}


class ReferenceOrderConfig(ChannelConfig):
    """The order keys of the reference integration's ``channel.conf``."""

    order_page_size: int = Field(
        default=100, ge=1, le=1000, title="Orders, events and claims read per request"
    )
    """Orders, events and claims read per request (memory holds one page)."""
    order_status_mapping: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ORDER_STATUS_MAPPING),
        title="Omnitron item status -> marketplace status: {code: picking|shipped|delivered}",
    )
    """Omnitron order-item status code -> marketplace line status (picking, shipped,
    delivered). Codes not listed (200-400, 50...) send no status; ``100`` cancels units."""
    item_status_mapping: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ITEM_STATUS_MAPPING),
        title="Marketplace line status -> Omnitron item status code",
    )
    """Marketplace line status (from ``line_update`` events) -> Omnitron item status code."""
    claim_decision_mapping: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CLAIM_DECISION_MAPPING),
        title="Cancellation request status -> approve|reject on the marketplace",
    )
    """Omnitron cancellation-request status -> ``approve`` or ``reject`` on the marketplace;
    other statuses (waiting...) are not decisions and send nothing."""

    @model_validator(mode="before")
    @classmethod
    def _default_reason_mapping(cls, data: Any) -> Any:
        """``reason_mapping`` (marketplace reason code -> Omnitron cancellation reason id) is
        the engine's key, read from the extra keys; when the merchant set none, the default
        that fits the Omnitron simulator's seed is put there."""
        if isinstance(data, dict) and "reason_mapping" not in data:
            return {**data, "reason_mapping": dict(DEFAULT_REASON_MAPPING)}
        return data


class ReferenceOrderCommands(ChannelIntegration[OrderConfigT]):
    """The order methods; the integration sets ``self.client``."""

    client: MarketplaceClient

    # --- New orders ---------------------------------------------------------------------

    def get_orders(self) -> Iterator[ChannelCreateOrderDto | MalformedOrderDto]:
        for order in self.client.iter_orders(page_size=self.config.order_page_size):
            if isinstance(order, UnreadableOrder):
                yield MalformedOrderDto(
                    number=order.number or order.id or "?",
                    message=f"unreadable order {order.id or '(no id)'} from {PEER} GET "
                    f"/orders: {order.error}",
                    raw=_raw(order.raw),
                )
                continue
            try:
                yield order_dto(order)
            except ValidationError as error:
                yield MalformedOrderDto(
                    number=order.number,
                    message=f"marketplace order {order.id} does not fit the order DTO: "
                    + _errors(error),
                    raw=_raw(order.model_dump(mode="json")),
                )

    def acknowledge_orders(self, remote_ids: Sequence[str]) -> None:
        if remote_ids:
            self._check_acks("orders", self.client.acknowledge_orders(list(remote_ids)))

    # --- Omnitron -> marketplace ----------------------------------------------------------

    def update_orders(self, items: Sequence[OrderUpdateItem]) -> list[OrderBatchRequestResponseDto]:
        rows: list[OrderBatchRequestResponseDto | None] = [None] * len(items)
        pending: list[tuple[int, OrderStatusUpdate]] = []
        for index, item in enumerate(items):
            if not item.remote_id:
                rows[index] = OrderBatchRequestResponseDto(
                    status=ResponseStatus.FAIL,
                    number=item.sku,
                    message="the order has no marketplace id",
                    failed_reason_type=FailedReasonType.CHANNEL_APP,
                )
                continue
            pending.append((index, self._status_update(item)))
        for start in range(0, len(pending), MAX_ITEMS_PER_REQUEST):
            chunk = pending[start : start + MAX_ITEMS_PER_REQUEST]
            answer = self.client.update_order_statuses([update for _, update in chunk])
            by_index = {result.index: result for result in answer.items}
            for position, (index, update) in enumerate(chunk):
                result = by_index.get(position)
                item = items[index]
                if result is None:
                    rows[index] = OrderBatchRequestResponseDto(
                        status=ResponseStatus.FAIL,
                        number=item.sku,
                        remote_id=update.order_id,
                        message="the marketplace returned no result for this order",
                    )
                    continue
                rows[index] = OrderBatchRequestResponseDto(
                    status=ResponseStatus.SUCCESS if result.ok else ResponseStatus.FAIL,
                    number=item.sku,
                    remote_id=update.order_id,
                    message=result.message or "; ".join(result.notes),
                )
        return [row for row in rows if row is not None]

    def _status_update(self, item: OrderUpdateItem) -> OrderStatusUpdate:
        """The absolute marketplace state of one Omnitron order (see the module docstring)."""
        mapping = self.config.order_status_mapping
        remote_ids: Mapping[Any, Any] = item.item_remote_ids
        units: dict[str, list[str]] = {}
        tracking = _field(item.obj, "tracking_number")
        invoice = invoice_date = None
        for unit in item.items:
            pk = _field(unit, "pk") or _field(unit, "id")
            extra = _field(unit, "extra_field") or {}
            line = remote_ids.get(pk) or remote_ids.get(str(pk)) or extra.get("id")
            if not line:
                continue
            units.setdefault(str(line), []).append(str(_field(unit, "status") or ""))
            tracking = tracking or _field(unit, "tracking_number")
            invoice = invoice or _field(unit, "invoice_number")
            invoice_date = invoice_date or _field(unit, "invoice_date")
        lines = []
        for line, statuses in units.items():
            cancelled = sum(1 for status in statuses if status in CANCELLED_CODES)
            live = [mapping.get(status) for status in statuses if status not in CANCELLED_CODES]
            line_status: Any = None
            if not live:
                line_status = "cancelled"
            elif all(status in PROGRESS for status in live):
                line_status = min(live, key=lambda s: PROGRESS.index(str(s)))
            lines.append(
                LineStatusUpdate(
                    line_id=line,
                    status=line_status,
                    cancelled_quantity=cancelled if cancelled and live else None,
                )
            )
        order_status: Any = None
        if not units:  # no items given: the order's own status
            code = str(item.obj.status or "")
            order_status = "cancelled" if code in CANCELLED_CODES else mapping.get(code)
            if order_status not in (*PROGRESS, "cancelled"):
                order_status = None
        cargo = item.obj.cargo_company
        return OrderStatusUpdate(
            order_id=str(item.remote_id),
            status=order_status,
            tracking_number=_text(tracking),
            invoice_number=_text(invoice),
            invoice_date=_text(invoice_date),
            cargo_code=_text(cargo.get("erp_code")) if isinstance(cargo, dict) else None,
            lines=lines,
        )

    # --- Marketplace -> Omnitron ----------------------------------------------------------

    def get_updated_order_items(self) -> Iterator[ChannelUpdateOrderItemDto | MalformedEventDto]:
        for event in self.client.iter_order_events(
            "line_update", page_size=self.config.order_page_size
        ):
            yield _event(event, self._line_update, "/order-events")

    def _line_update(self, event: OrderEvent) -> ChannelUpdateOrderItemDto:
        if not event.line_id:
            raise _Unusable("a line_update event without line_id")
        extra: dict[str, Any] = {"order_id": event.order_id}
        if event.cargo_code:
            extra["cargo_code"] = event.cargo_code
        invoice_date = _when(event.invoice_date)
        if event.invoice_date and invoice_date is None:
            extra["invoice_date"] = event.invoice_date
        return ChannelUpdateOrderItemDto(
            remote_id=event.line_id,
            event_id=event.id,
            status=self.config.item_status_mapping.get(event.status) if event.status else None,
            invoice_number=event.invoice_number,
            invoice_date=invoice_date,
            tracking_number=event.tracking_number,
            extra_field=extra,
        )

    def acknowledge_order_item_updates(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self._check_acks("events", self.client.acknowledge_order_events(list(event_ids)))

    def get_cancelled_orders(self) -> Iterator[CancelOrderDto | MalformedEventDto]:
        for event in self.client.iter_order_events(
            "cancellation", page_size=self.config.order_page_size
        ):
            yield _event(event, _cancellation, "/order-events")

    def acknowledge_cancelled_orders(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self._check_acks("events", self.client.acknowledge_order_events(list(event_ids)))

    def get_cancellation_requests(self) -> Iterator[CancellationRequestDto | MalformedEventDto]:
        for claim in self.client.iter_claims(page_size=self.config.order_page_size):
            yield _event(claim, _request, "/claims")

    def acknowledge_cancellation_requests(self, remote_ids: Sequence[str]) -> None:
        if remote_ids:
            self._check_acks("claims", self.client.acknowledge_claims(list(remote_ids)))

    def update_cancellation_request(
        self, request: ChannelCancellationRequestDto
    ) -> BatchRequestResponseDto:
        decision = self.config.claim_decision_mapping.get(str(request.status).lower())

        def row(ok: bool, message: str) -> BatchRequestResponseDto:
            return BatchRequestResponseDto(
                status=ResponseStatus.SUCCESS if ok else ResponseStatus.FAIL,
                sku=request.remote_id,
                remote_id=request.remote_id,
                message=message,
            )

        if decision not in ("approve", "reject"):
            return row(True, f"status {request.status!r} is not a decision; nothing sent")
        verdict: Literal["approve", "reject"] = "approve" if decision == "approve" else "reject"
        try:
            claim = self.client.decide_claim(
                request.remote_id, verdict, note=request.description or None
            )
        except NotFoundError:
            return row(False, f"the marketplace has no claim {request.remote_id}")
        except RunError as error:
            if error.code == "claim_already_decided":
                return row(False, f"the claim was already decided otherwise: {error.message}")
            raise
        return row(True, f"claim {claim.id} {claim.status}")

    def _check_acks(self, what: str, answer: OrderBulkResult) -> None:
        for result in answer.rejected:
            ident = result.order_id or result.event_id or result.claim_id
            self.log.warning(
                "marketplace refused to acknowledge %s %s: %s",
                what,
                ident,
                result.message,
                extra={"acknowledging": what, "item": ident},
            )


# ------------------------------------------------------------------------------- conversion
class _Unusable(ValueError):
    """A row that parsed but lacks what its DTO needs."""


def _event(
    row: RowT | UnreadableRow, convert: Callable[[RowT], DtoT], source: str
) -> DtoT | MalformedEventDto:
    """One event or claim as its DTO, or as a :class:`MalformedEventDto` keyed by its id;
    ``source`` is the list it was read from, named in the message."""
    if isinstance(row, UnreadableRow):
        return MalformedEventDto(
            key=row.id or "?",
            message=f"unreadable row {row.id or '(no id)'} from {PEER} GET {source}: {row.error}",
            raw=_raw(row.raw),
        )
    try:
        return convert(row)
    except (ValidationError, _Unusable) as error:
        problem = _errors(error) if isinstance(error, ValidationError) else str(error)
        return MalformedEventDto(
            key=str(getattr(row, "id", "") or "?"),
            message=f"does not fit its DTO: {problem}",
            raw=_raw(row.model_dump(mode="json")),
        )


def _cancellation(event: OrderEvent) -> CancelOrderDto:
    if not event.lines:
        raise _Unusable("a cancellation event without lines")
    return CancelOrderDto(
        order=event.order_id,
        cancel_items=[line.line_id for line in event.lines],
        reasons={line.line_id: line.reason_code for line in event.lines},
        quantities={line.line_id: line.cancelled_quantity for line in event.lines},
        event_id=event.id,
    )


def _request(claim: Claim) -> CancellationRequestDto:
    return CancellationRequestDto(
        remote_id=claim.id,
        order_item=claim.line_id,
        reason=claim.reason_code,
        description=claim.description,
        cancellation_type="cancel" if claim.type == "cancel" else "refund",
        quantity=claim.quantity,
    )


def order_dto(order: MarketOrder) -> ChannelCreateOrderDto:
    """The engine's view of a marketplace order (raises ``ValidationError`` if it cannot be)."""
    buyer = order.customer
    customer = CustomerDto(
        email=buyer.email,
        first_name=buyer.first_name,
        last_name=buyer.last_name,
        phone_number=buyer.phone,
        channel_code=buyer.id,
        extra_field={"id": buyer.id} if buyer.id else {},
    )
    totals = order.totals
    return ChannelCreateOrderDto(
        order=ChannelOrderDto(
            remote_id=order.id,
            number=order.number,
            customer=customer,
            shipping_address=_address(order.shipping_address, customer),
            billing_address=_address(order.billing_address, customer),
            currency=order.currency,
            amount=totals.grand_total,
            shipping_amount=totals.shipping,
            cargo_company=order.cargo_code,
            created_at=order.created_at,
            discount_amount=totals.discount or None,
            extra_field={"id": order.id, "marketplace_status": order.status},
        ),
        order_item=[
            OrderItemDto(
                remote_id=line.line_id,
                product=line.product_id,
                price=line.unit_price,
                price_currency=line.currency,
                tax_rate=line.tax_rate,
                quantity=line.quantity,
                retail_price=line.list_price,
                discount_amount=line.discount_amount or None,
                extra_field={"id": line.line_id, "sku": line.sku},
            )
            for line in order.lines
        ],
    )


def _address(address: OrderAddress, customer: CustomerDto) -> AddressDto:
    return AddressDto(
        email=address.email or customer.email,
        phone_number=address.phone or customer.phone_number or "",
        first_name=address.first_name,
        last_name=address.last_name,
        country=address.country_code,
        city=address.city,
        township=address.township,
        district=address.district,
        line=address.address_line,
        postcode=address.postcode,
        company_name=address.company_name,
        tax_office=address.tax_office,
        tax_no=address.tax_number,
        e_bill_taxpayer=bool(address.tax_number),
        identity_number=address.identity_number,
    )


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _raw(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=_plain)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:MAX_RAW]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | dt.datetime) else repr(value)


def _errors(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:10]:
        where = ".".join(str(p) for p in problem["loc"]) or "(order)"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)
