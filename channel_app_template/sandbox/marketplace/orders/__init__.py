"""Orders, order events and claims: the marketplace side of a sale.

Model
-----
An order (``MO`` + 8 digits) has lines (``ML`` + 8 digits), each for ``quantity`` units of one
marketplace product (``product_id`` ``MPnnnnnnnn`` and the seller's ``sku``). Lines move
forward through ``created -> picking -> shipped -> delivered``; ``cancelled`` and ``returned``
are terminal. A line keeps ``cancelled_quantity`` and ``returned_quantity`` so part of a line
can be cancelled (1 of 3 units) while the rest ships. The order's ``status`` is derived from its
lines: the least advanced live line, or ``cancelled``/``returned`` when no unit is left.

Seller-facing flow
------------------
* New orders are listed until the seller **acknowledges** them (bulk, idempotent).
* The seller sends absolute updates (status, tracking, invoice, cargo, cancelled units) per
  order: re-sending the same update changes nothing; a status behind the current one is a
  no-op (``notes`` says so), never an error, so a late update cannot move a line back.
* What the marketplace itself changes becomes an **event** the seller pulls and acknowledges:
  ``line_update`` (status, tracking, invoice set by marketplace logistics) and
  ``cancellation`` (units cancelled by the marketplace or the buyer before shipping, with a
  reason code, quantity-aware: ``quantity`` cancelled now and ``cancelled_quantity`` in total).
* Buyers' cancellation and return requests are **claims** (``CL`` + 8 digits), pulled and
  acknowledged like events, then approved or rejected by the seller (idempotent; the other
  decision afterwards is a 409).

Orders are made by ``/_sandbox/orders/generate`` from products that exist here, optionally
with a fraction of bad ones (see :func:`generate`).

Layout (one role a module; this package re-exports what the routes and planting use):

* ``_schema.py`` the tables and the words they use (statuses, types, cargo and reason codes);
* ``_wire.py`` ids, money and the order/line payloads; ``_reading.py`` listing and reading
  orders; ``_feeds.py`` paging events and claims, acknowledging all three;
* ``_lines.py`` the order-line state machine; ``_seller.py`` the seller's status updates;
* ``_events.py`` marketplace-side changes and their events; ``_claims.py`` buyers' claims;
* ``_generate.py`` sandbox order generation; ``_counts.py`` the sandbox counts.
"""

from __future__ import annotations

from ._claims import create_claim, decide_claim, get_claim, list_claims
from ._counts import counts
from ._events import cancel_lines, get_event, list_events, update_line
from ._feeds import acknowledge
from ._generate import BAD_KINDS, MALFORMED_VARIANTS, GenerateSpec, generate
from ._reading import get_order, list_orders
from ._schema import (
    CANCEL_REASONS,
    CANCELLABLE,
    CANCELLED,
    CARGO_CODES,
    CLAIM_APPROVED,
    CLAIM_REJECTED,
    CLAIM_TYPES,
    CLAIM_WAITING,
    CREATED,
    DATA_TABLES,
    DDL,
    DECISIONS,
    DELIVERED,
    EVENT_TYPES,
    LINE_STATUSES,
    PICKING,
    PROGRESS,
    RANK,
    REASON_CODES,
    RETURN_REASONS,
    RETURNED,
    SELLER_STATUSES,
    SHIPPED,
)
from ._seller import update_statuses
from ._wire import claim_id, event_id, line_id, money, money_or_none, order_id, parse_id

__all__ = [
    "BAD_KINDS",
    "CANCELLABLE",
    "CANCELLED",
    "CANCEL_REASONS",
    "CARGO_CODES",
    "CLAIM_APPROVED",
    "CLAIM_REJECTED",
    "CLAIM_TYPES",
    "CLAIM_WAITING",
    "CREATED",
    "DATA_TABLES",
    "DDL",
    "DECISIONS",
    "DELIVERED",
    "EVENT_TYPES",
    "LINE_STATUSES",
    "MALFORMED_VARIANTS",
    "PICKING",
    "PROGRESS",
    "RANK",
    "REASON_CODES",
    "RETURNED",
    "RETURN_REASONS",
    "SELLER_STATUSES",
    "SHIPPED",
    "GenerateSpec",
    "acknowledge",
    "cancel_lines",
    "claim_id",
    "counts",
    "create_claim",
    "decide_claim",
    "event_id",
    "generate",
    "get_claim",
    "get_event",
    "get_order",
    "line_id",
    "list_claims",
    "list_events",
    "list_orders",
    "money",
    "money_or_none",
    "order_id",
    "parse_id",
    "update_line",
    "update_statuses",
]
