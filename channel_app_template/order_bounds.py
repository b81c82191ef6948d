"""How many units one marketplace order may cost: the hard ceilings and the defaults.

Omnitron stores one order item per *unit*, so a line's quantity is what an order costs:
one item row created, one mapping recorded and, for every later status, tracking or
cancellation change, one more request per unit. Consumer marketplaces send a handful of
units per line; a line of thousands is a data error (or a wholesale deal that a person
should look at), and a quantity of 10**12 would never fit in memory. ``ORDER_MAX_LINE_QUANTITY``
and ``ORDER_MAX_UNITS`` set the working limits (defaults below); they may not exceed the
ceilings, which the order DTOs also enforce. Kept free of imports: settings read it.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_IN_FLIGHT",
    "DEFAULT_MAX_LINE_QUANTITY",
    "DEFAULT_MAX_UNITS",
    "MAX_IN_FLIGHT",
    "MAX_LINE_QUANTITY",
    "MAX_ORDER_UNITS",
]

MAX_LINE_QUANTITY = 10_000
MAX_ORDER_UNITS = 10_000
DEFAULT_MAX_LINE_QUANTITY = 100
DEFAULT_MAX_UNITS = 500
# Orders one inbound run has admitted and not yet acknowledged (``ORDER_IN_FLIGHT``). At 200
# (four pages of 50) the pool went idle each time a page closed (its mapping batch and
# acknowledgement); 400 keeps it busy: 86-111 -> 109-149 orders/s in ``bench/bench_orders.py``
# at 20 ms. 800 measured no better.
DEFAULT_IN_FLIGHT = 400
MAX_IN_FLIGHT = 1000
