"""A reference marketplace with an API of its own, for the reference integration.

Layout (one module per concern; a new resource is a new module, not a rewrite):

* ``app.py`` builds the ASGI app; ``context.py`` holds the per-app state and the ``/api/``
  guard (API key, rate limit, settling due batches); ``errors.py`` the error envelope;
  ``http.py`` request parsing; ``ratelimit.py`` the token bucket.
* ``store.py`` opens the SQLite file and assembles the schema from each module's ``DDL``;
  ``seed.py`` the fixed reference data; ``catalog.py`` categories, attributes and the
  validation rules; ``products.py`` product writes; ``batches.py`` asynchronous batches with a
  processor registry.
  ``orders/`` orders, order events and claims (lifecycle, acknowledgements, seller updates,
  generation of sandbox orders), one role a private module.
* ``routes_catalog.py``, ``routes_products.py``, ``routes_orders.py``,
  ``routes_sandbox_orders.py`` (the ``/_sandbox/orders/`` controls), ``routes_sandbox.py``
  the HTTP surface: plain handlers and a ``ROUTES`` table each, installed in order by
  ``app.py``; ``route_table.py`` the ``/api/v1`` entries (the marketplace's own 405).

A new resource follows ``orders``: a module with its ``DDL`` and ``DATA_TABLES`` (added to the
tuples in ``store.py``; ``register_kind`` for asynchronous batches) and a routes module whose
``ROUTES`` joins the table in ``app.py``.
"""
