"""Marketplace addresses -> Omnitron location pks, the way Omnitron expects it.

Each level is looked up by code or name first, then through the channel's location
mappings (``{channel_id}_{code}``, which a merchant sets in Omnitron). Exactly one match
is required; anything else files an address error report, which Omnitron shows as a
mapping task, and fails the order until someone maps it. Answers are cached per run:
thousands of orders share a few dozen cities.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

from channel_app_template.akinon.models import INTEGRATION_TYPE, Location
from channel_app_template.akinon.port import OmnitronIntegration
from channel_app_template.errors import ChannelAppError, ItemError

__all__ = ["LocationResolver", "UnresolvedLocation"]

PARENT_FILTER = {"cities": "country", "townships": "city", "districts": "township"}
ERROR_KIND = {
    "countries": "country",
    "cities": "city",
    "townships": "township",
    "districts": "district",
}


class UnresolvedLocation(ItemError):
    """A country, city, township or district that Omnitron does not know (yet)."""


class LocationResolver:
    def __init__(self, omnitron: OmnitronIntegration, channel_id: int) -> None:
        self.omnitron = omnitron
        self.channel_id = channel_id
        self._cache: dict[tuple[str, str, int | None], int | None] = {}
        self._lock = threading.Lock()

    def resolve(
        self, country: str, city: str, township: str | None, district: str | None
    ) -> dict[str, int | None]:
        country_pk = self._one("countries", country, None)
        city_pk = self._one("cities", city, country_pk)
        township_pk = self._one("townships", township, city_pk) if township else None
        district_pk = (
            self._one("districts", district, township_pk) if district and township_pk else None
        )
        return {
            "country": country_pk,
            "city": city_pk,
            "township": township_pk,
            "district": district_pk,
        }

    def _one(self, kind: str, value: str, parent: int | None) -> int:
        key = (kind, value.strip().casefold(), parent)
        with self._lock:
            if key in self._cache:
                found = self._cache[key]
                if found is None:
                    raise self._unresolved(kind, value, parent, report=False)
                return found
        found = self._lookup(kind, value.strip(), parent)
        with self._lock:
            self._cache[key] = found
        if found is None:
            raise self._unresolved(kind, value, parent, report=True)
        return found

    def _lookup(self, kind: str, value: str, parent: int | None) -> int | None:
        scope: dict[str, Any] = {"is_active": True}
        if kind in PARENT_FILTER:
            scope[PARENT_FILTER[kind]] = parent
        attempts: list[Mapping[str, Any]] = []
        if kind == "countries":
            attempts.append({"code__exact": value.upper()})
        attempts.append({"name__iexact": value})
        attempts.append(
            {
                "mapping__code__exact": f"{self.channel_id}_{value}",
                "mapping__integration_type": INTEGRATION_TYPE,
            }
        )
        for filters in attempts:
            rows: list[Location] = self.omnitron.locations(kind, **scope, **filters)
            if len(rows) == 1 and rows[0].pk is not None:
                return int(rows[0].pk)
        return None

    def _unresolved(
        self, kind: str, value: str, parent: int | None, *, report: bool
    ) -> UnresolvedLocation:
        if report:
            body: dict[str, Any] = {
                "type": ERROR_KIND[kind],
                "remote_code": f"{self.channel_id}_{value}",
                "name": value,
                "integration_type": INTEGRATION_TYPE,
                "err_code": f"{ERROR_KIND[kind]}_not_found",
                "err_desc": f"{ERROR_KIND[kind]} {value!r} has no match or mapping in Omnitron",
            }
            if kind in PARENT_FILTER:
                body[f"{PARENT_FILTER[kind]}_id"] = parent
            with contextlib.suppress(ChannelAppError):  # the order fails either way
                self.omnitron.report_unknown_location(ERROR_KIND[kind], body)
        return UnresolvedLocation(
            f"address: {ERROR_KIND[kind]} {value!r} is not known to Omnitron; map it in "
            "Omnitron's location mappings"
        )
