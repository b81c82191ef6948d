"""Batch requests: the lock and journal of one unit of sync work, moved through
``initialized`` -> ``commit`` -> (``sent_to_remote`` -> ``ongoing``) -> ``done``/``fail``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import (
    BatchRequest,
    BatchRequestHead,
    BatchRequestObject,
    BatchRequestStatus,
)
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated
from channel_app_template.errors import ItemError
from channel_app_template.transport import expect_object

__all__ = ["BatchesApi"]

logger = logging.getLogger(__name__)


class BatchesApi(Area):
    def create(self) -> BatchRequest:
        """A new batch (status ``initialized``): the run's lock and journal."""
        body = {"channel": self.channel_id}
        return self._create(self._path("batch_requests"), BatchRequest, body)

    def get(self, pk: int) -> BatchRequest:
        return self._get(self._path("batch_requests", pk), BatchRequest)

    def find(
        self,
        statuses: Sequence[BatchRequestStatus | str] = (),
        content_type: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        *,
        objects: bool = True,
        **filters: Any,
    ) -> Paginated[BatchRequest]:
        """E.g. the open async batches: ``statuses=("sent_to_remote", "ongoing")``;
        ``objects=False`` skips each batch's objects (:class:`BatchRequestHead`)."""
        params: dict[str, Any] = {"content_type": content_type, "channel": self.channel_id}
        if statuses:
            params["status"] = [str(status) for status in statuses]
        params.update(filters)
        model = BatchRequest if objects else BatchRequestHead
        return self._list(self._path("batch_requests"), model, params, page_size=page_size)

    def commit(
        self, pk: int, content_type: str, objects: Sequence[BatchRequestObject]
    ) -> BatchRequest:
        """Lock ``objects`` under this batch (their mappings become ``processing``)."""
        return self._transition(
            pk, BatchRequestStatus.COMMIT, content_type=content_type, objects=_objects(objects)
        )

    def mark_sent_to_remote(self, pk: int, remote_batch_id: str) -> BatchRequest:
        return self._transition(
            pk, BatchRequestStatus.SENT_TO_REMOTE, remote_batch_id=remote_batch_id
        )

    def mark_ongoing(self, pk: int) -> BatchRequest:
        return self._transition(pk, BatchRequestStatus.ONGOING)

    def mark_done(self, pk: int, objects: Sequence[BatchRequestObject]) -> BatchRequest:
        """Objects with ``remote_id`` become ``success``, with ``failed_reason_type`` errors."""
        return self._transition(pk, BatchRequestStatus.DONE, objects=_objects(objects))

    def mark_failed(
        self, pk: int, objects: Sequence[BatchRequestObject] | None = None
    ) -> BatchRequest:
        payload = None if objects is None else _objects(objects)
        return self._transition(pk, BatchRequestStatus.FAIL, objects=payload)

    def _transition(self, pk: int, status: BatchRequestStatus, **fields: Any) -> BatchRequest:
        """Move a batch to ``status``; treat "already there" as success.

        The PATCH is retried like any PATCH. If a first attempt was applied but its answer
        lost, the repeat is refused with 406 (``done`` -> ``done`` is not a transition); we
        then read the batch, and if it already has the target status the transition did
        happen, so the refusal is not an error.
        """
        body = {"channel": self.channel_id, "status": status, **fields}
        path = self._path("batch_requests", pk)
        try:
            answer = self.http.patch(path, body)
            expect_object(answer, peer="Omnitron", method="PATCH", path=path)
            # the objects the answer echoes are the ones just sent: reading thousands of
            # them back cost more CPU than the rest of the transition, so they are not read
            return self._model(BatchRequest, {**answer, "objects": None}, "PATCH", path)
        except ItemError as error:
            if error.status_code != 406:
                raise
            current = self.get(pk)
            if current.status == status:
                logger.warning("batch request %s was already %s", pk, status.value)
                return current
            raise


_OBJECTS = TypeAdapter(list[BatchRequestObject])


def _objects(objects: Sequence[BatchRequestObject]) -> list[dict[str, Any]]:
    """Every field, nulls included, as Akinon's clients send them (one dump for the list:
    a model_dump per object was a visible share of a batch's CPU)."""
    dumped: list[dict[str, Any]] = _OBJECTS.dump_python(list(objects), mode="json")
    return dumped
