"""Cancellation requests: a buyer's cancel or return request, decided on in Omnitron."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import CancellationRequest
from channel_app_template.akinon.pagination import Paginated

__all__ = ["CancellationsApi"]


class CancellationsApi(Area):
    def find(self, **filters: Any) -> Paginated[CancellationRequest]:
        return self._list(self._path("cancellation_requests"), CancellationRequest, filters)

    def updates(self) -> Paginated[CancellationRequest]:
        """Requests Omnitron decided on since they were last sent to the channel."""
        path = self._path("cancellation_requests", "updates")
        return self._list(path, CancellationRequest)

    def create(self, body: Mapping[str, Any]) -> CancellationRequest:
        """Fields: order_item, reason, remote_id, description, cancellation_type."""
        return self._create(self._path("cancellation_requests"), CancellationRequest, dict(body))
