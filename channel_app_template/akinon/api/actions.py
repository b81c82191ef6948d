"""Integration actions: Omnitron's map of its objects to channel ids (``remote_id``), with
the ``version_date`` last synced and the status of the last sync."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import IntegrationAction
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated

__all__ = ["ActionsApi"]


class ActionsApi(Area):
    def find(
        self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> Paginated[IntegrationAction]:
        """Filters: content_type_name, object_id(__in), remote_id(__exact|__in), status..."""
        path = self._path("integration_actions")
        return self._list(path, IntegrationAction, filters, page_size=page_size)

    def for_objects(self, model: str, object_ids: Iterable[int]) -> Iterator[IntegrationAction]:
        """The mappings of many objects, ``object_id__in`` chunk by chunk."""
        return self._of_model(model, "object_id__in", object_ids)

    def for_remote_ids(self, model: str, remote_ids: Iterable[str]) -> Iterator[IntegrationAction]:
        """``remote_id__in`` chunk by chunk (an id with a comma cannot travel in one)."""
        return self._of_model(model, "remote_id__in", remote_ids)

    def _of_model(
        self, model: str, lookup: str, ids: Iterable[int] | Iterable[str]
    ) -> Iterator[IntegrationAction]:
        params = {"content_type_name": model, "channel_id": self.channel_id}
        path = self._path("integration_actions")
        return self._by_ids(path, IntegrationAction, ids, lookup=lookup, params=params)

    def deleted(
        self, model: str, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[IntegrationAction]:
        """Mappings whose Omnitron object was deleted (to remove from the channel)."""
        return self._list(
            self._path("integration_actions", "deleted"),
            IntegrationAction,
            {"model": model, "channel_id": self.channel_id},
            page_size=page_size,
        )

    def create(
        self,
        model: str,
        object_id: int,
        remote_id: str | None,
        version_date: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> IntegrationAction:
        body = {
            "channel_id": self.channel_id,
            "content_type": model,
            "object_id": object_id,
            "remote_id": remote_id,
            "version_date": version_date,
            "state": dict(state or {}),
        }
        return self._create(self._path("integration_actions"), IntegrationAction, body)

    def update(self, pk: int, changes: Mapping[str, Any]) -> IntegrationAction:
        return self._update(self._path("integration_actions", pk), IntegrationAction, dict(changes))

    def delete(self, pk: int) -> bool:
        """Idempotent; False when it was gone already."""
        return self._delete(self._path("integration_actions", pk))
