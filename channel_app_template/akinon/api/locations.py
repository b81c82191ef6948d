"""Countries, cities, townships and districts, each filtered like any Django list."""

from __future__ import annotations

from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import Location
from channel_app_template.akinon.pagination import Paginated

__all__ = ["LOCATION_KINDS", "LocationsApi"]

LOCATION_KINDS = ("countries", "cities", "townships", "districts")


class LocationsApi(Area):
    def find(self, kind: str, **filters: Any) -> Paginated[Location]:
        """``kind`` is one of :data:`LOCATION_KINDS`; filters as Django takes them, e.g.
        ``code__exact="TR", is_active=True``; ``.one()`` when exactly one must match."""
        if kind not in LOCATION_KINDS:
            raise ValueError(f"unknown location kind {kind!r}")
        return self._list(self._path(kind), Location, filters)
