"""Attribute sets (one per marketplace category) and their configs: the set's link to a
category node, one attribute config per attribute, one value config per allowed value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import (
    AttributeConfig,
    AttributeSet,
    AttributeSetConfig,
    AttributeValueConfig,
)
from channel_app_template.akinon.pagination import Paginated

__all__ = ["AttributeSetsApi"]

SETS = "attribute_sets"
SET_CONFIGS = "attribute_set_configs"
CONFIGS = "attribute_configs"
VALUE_CONFIGS = "attribute_value_configs"
BY_SET = "attribute_set__in"


class AttributeSetsApi(Area):
    # Sets ---------------------------------------------------------------------------------

    def find(self, **filters: Any) -> Paginated[AttributeSet]:
        return self._list(self._path(SETS), AttributeSet, filters)

    def by_remote_ids(self, remote_ids: Iterable[str]) -> Iterator[AttributeSet]:
        """``remote_id__in`` chunk by chunk (callers should still compare ``remote_id``)."""
        path = self._path(SETS)
        return self._by_ids(path, AttributeSet, remote_ids, lookup="remote_id__in")

    def create(self, name: str, remote_id: str | None = None) -> AttributeSet:
        body = {"name": name, "remote_id": remote_id, "channel": self.channel_id}
        return self._create(self._path(SETS), AttributeSet, body)

    def update(self, pk: int, changes: Mapping[str, Any]) -> AttributeSet:
        return self._update(self._path(SETS, pk), AttributeSet, dict(changes))

    # A set's link to what it applies to (a category node) ---------------------------------

    def set_configs(self, **filters: Any) -> Paginated[AttributeSetConfig]:
        return self._list(self._path(SET_CONFIGS), AttributeSetConfig, filters)

    def set_configs_of(
        self, sets: Iterable[int], content_type: str | None = None
    ) -> Iterator[AttributeSetConfig]:
        """The set configs (``object_id`` + ``content_type``) of the given sets."""
        extra = {"content_type__model": content_type} if content_type else {}
        return self._all_of_chunks(self._path(SET_CONFIGS), AttributeSetConfig, BY_SET, sets, extra)

    def create_set_config(
        self, attribute_set: int, object_id: int, content_type: str
    ) -> AttributeSetConfig:
        body = {
            "attribute_set": attribute_set,
            "object_id": object_id,
            "content_type": content_type,
        }
        return self._create(self._path(SET_CONFIGS), AttributeSetConfig, body)

    # Attribute configs --------------------------------------------------------------------

    def configs(self, **filters: Any) -> Paginated[AttributeConfig]:
        return self._list(self._path(CONFIGS), AttributeConfig, filters)

    def configs_of(self, sets: Iterable[int]) -> Iterator[AttributeConfig]:
        """Every attribute config of the given sets."""
        return self._all_of_chunks(self._path(CONFIGS), AttributeConfig, BY_SET, sets)

    def create_config(self, body: Mapping[str, Any]) -> AttributeConfig:
        """Fields: attribute_set, attribute, attribute_remote_id, is_required, is_variant..."""
        return self._create(self._path(CONFIGS), AttributeConfig, dict(body))

    def update_config(self, pk: int, changes: Mapping[str, Any]) -> AttributeConfig:
        return self._update(self._path(CONFIGS, pk), AttributeConfig, dict(changes))

    # Value configs ------------------------------------------------------------------------

    def value_configs(self, **filters: Any) -> Paginated[AttributeValueConfig]:
        return self._list(self._path(VALUE_CONFIGS), AttributeValueConfig, filters)

    def value_configs_of(self, sets: Iterable[int]) -> Iterator[AttributeValueConfig]:
        """Every value config of the given sets."""
        return self._all_of_chunks(self._path(VALUE_CONFIGS), AttributeValueConfig, BY_SET, sets)

    def create_value_config(self, attribute_set: int, attribute_value: int) -> AttributeValueConfig:
        body = {"attribute_set": attribute_set, "attribute_value": attribute_value}
        return self._create(self._path(VALUE_CONFIGS), AttributeValueConfig, body)
