"""The Omnitron port: the one way every flow reaches Omnitron.

**Decision (issue 12): one port, not no facade.** ``OMNITRON_MODULE`` is Akinon's documented
extension point for the Omnitron side of a channel app, so it has to mean something for
every flow: catalog sync, order intake, order events and setup all call
:class:`OmnitronIntegration` and nothing else, and a subclass loaded from
``OMNITRON_MODULE`` changes what each of them reads or writes. The port's methods are the
operations the flows need, in Omnitron's models (``create_order`` looks the order up after
a lost answer, ``record_mappings`` commits and closes a batch, ``move_category_node`` reads
the node back before it repeats a lost move); the REST client
(:class:`~channel_app_template.akinon.client.OmnitronClient`, split by area in
:mod:`channel_app_template.akinon.api`) is private to it, and an import-linter contract
keeps the engines from importing it. Without a facade, the flows would each hold the
REST client and an integration could only replace Omnitron's side by patching the engine.

The port is assembled from one mixin per concern, each in its own module:
:mod:`._base` (clients per thread, unreadable rows, channel, error reports),
:mod:`.sync_state` (batch requests and mappings, shared by every flow), :mod:`.catalog`,
:mod:`.orders` and :mod:`.setup`. Subclass :class:`OmnitronIntegration` and point
``OMNITRON_MODULE`` at the module that defines it to change any of them; inside the
subclass, ``self._api()`` is the REST client of the calling thread.
"""

from __future__ import annotations

from channel_app_template.akinon.models import Tracked
from channel_app_template.akinon.port._base import UNREADABLE_MEMORY, ReportOnce
from channel_app_template.akinon.port.catalog import CatalogPort
from channel_app_template.akinon.port.orders import OrdersPort
from channel_app_template.akinon.port.setup import SetupPort
from channel_app_template.akinon.port.sync_state import OPEN_REMOTE

__all__ = ["OPEN_REMOTE", "UNREADABLE_MEMORY", "OmnitronIntegration", "ReportOnce", "Tracked"]


class OmnitronIntegration(CatalogPort, OrdersPort, SetupPort):
    """Omnitron for one channel and one task run (see the module docstring)."""
