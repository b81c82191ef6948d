"""Marketplace attributes, their values and schemas, as Omnitron keeps them per channel."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import Attribute, AttributeSchema, AttributeValue
from channel_app_template.akinon.pagination import Paginated

__all__ = ["AttributesApi"]

VALUE_PAGE_SIZE = 1000


class AttributesApi(Area):
    def find(self, **filters: Any) -> Paginated[Attribute]:
        return self._list(self._path("attributes"), Attribute, filters)

    def by_ids(self, pks: Iterable[int]) -> Iterator[Attribute]:
        return self._by_ids(self._path("attributes"), Attribute, pks)

    def create(self, name: str) -> Attribute:
        body = {"name": name, "channel": self.channel_id}
        return self._create(self._path("attributes"), Attribute, body)

    def update(self, pk: int, changes: Mapping[str, Any]) -> Attribute:
        return self._update(self._path("attributes", pk), Attribute, dict(changes))

    def create_schema(self, name: str, schema: Mapping[str, Any]) -> AttributeSchema:
        body = {"name": name, "schema": dict(schema), "channel": self.channel_id}
        return self._create(self._path("attribute_schemas"), AttributeSchema, body)

    def values(self, page_size: int = VALUE_PAGE_SIZE, **filters: Any) -> Paginated[AttributeValue]:
        path = self._path("attribute_values")
        return self._list(path, AttributeValue, filters, page_size=page_size)

    def values_of(self, attributes: Iterable[int]) -> Iterator[AttributeValue]:
        """Every value of the given attributes."""
        path = self._path("attribute_values")
        return self._all_of_chunks(path, AttributeValue, "attribute__in", attributes)

    def create_value(self, attribute: int, label: str, value: str) -> AttributeValue:
        body = {"channel": self.channel_id, "attribute": attribute, "label": label, "value": value}
        return self._create(self._path("attribute_values"), AttributeValue, body)

    def update_value(self, pk: int, changes: Mapping[str, Any]) -> AttributeValue:
        return self._update(self._path("attribute_values", pk), AttributeValue, dict(changes))
