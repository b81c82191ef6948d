"""Omnitron's sync state, which every flow keeps: batch requests (a unit of work's lock and
journal) and integration actions (the mapping of an Omnitron object to its channel id)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from channel_app_template.akinon.api import ID_CHUNK, chunked
from channel_app_template.akinon.models import (
    BatchRequest,
    BatchRequestObject,
    BatchRequestStatus,
    IntegrationAction,
    Tracked,
)
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.akinon.port._base import PortBase
from channel_app_template.errors import AmbiguousWriteError, ItemError

__all__ = ["OPEN_REMOTE", "SyncStatePort"]

logger = logging.getLogger("channel_app_template.akinon.port")

OPEN_REMOTE = (BatchRequestStatus.SENT_TO_REMOTE, BatchRequestStatus.ONGOING)
MAPPING_WRITE_ERRORS = (AmbiguousWriteError, ItemError)


class SyncStatePort(PortBase):
    # --- Batch requests --------------------------------------------------------------

    def open_batch(self) -> BatchRequest:
        return self._client.batches.create()

    def commit(self, batch: BatchRequest, model: str, tracked: Sequence[Tracked]) -> None:
        objects = [item.outcome() for item in tracked]
        self._api().batches.commit(_pk(batch), model, objects)

    def submitted(self, batch: BatchRequest, remote_batch_id: str) -> None:
        self._api().batches.mark_sent_to_remote(_pk(batch), remote_batch_id)

    def still_running(self, batch: BatchRequest) -> None:
        if batch.status != BatchRequestStatus.ONGOING:
            self._api().batches.mark_ongoing(_pk(batch))

    def finish(self, batch: BatchRequest, outcomes: Sequence[BatchRequestObject]) -> None:
        self._api().batches.mark_done(_pk(batch), outcomes)

    def abort(self, batch: BatchRequest, outcomes: Sequence[BatchRequestObject] = ()) -> None:
        self._api().batches.mark_failed(_pk(batch), list(outcomes) or None)

    def batches(
        self, statuses: Sequence[BatchRequestStatus], model: str | None
    ) -> list[BatchRequest]:
        """All matching batches, every page (checkers that read one page miss the rest).

        Read first, acted on after: settling a batch takes it out of the listing, which
        would shift the pages under an iteration. Each batch's ``objects`` (thousands of
        entries, which the engine never needs: its journal has them) are skipped unread,
        and pages are small, so memory does not grow with the catalog.
        """
        query = self._client.batches.find(statuses, content_type=model, page_size=10, objects=False)
        return list(query)

    def record_mappings(self, model: str, mapped: Sequence[tuple[Tracked, str]]) -> BatchRequest:
        """Map objects that exist on both sides (``(object, its remote id)``) in one batch,
        committed and done at once; a batch that fails half way is failed, never left
        committed (its objects' mappings would stay ``processing``)."""
        batch = self.open_batch()
        try:
            self.commit(batch, model, [tracked for tracked, _ in mapped])
            self.finish(batch, [tracked.outcome(remote_id=remote) for tracked, remote in mapped])
        except BaseException:
            with contextlib.suppress(Exception):
                self.abort(batch)
            raise
        return batch

    # --- Integration actions (mappings) ------------------------------------------------

    def deleted_actions(self, model: str, limit: int) -> Paginated[IntegrationAction]:
        """Mappings whose Omnitron object was deleted (to remove from the channel)."""
        return self._client.actions.deleted(model, page_size=limit)

    def failed_actions(self, model: str, page_size: int) -> Paginated[IntegrationAction]:
        """Mappings of ``model`` whose last sync failed (``status=error``), oldest first."""
        return self._client.actions.find(
            page_size=page_size,
            content_type_name=model,
            channel_id=self.channel_id,
            status="error",
            sort="id",
        )

    def mappings(self, model: str, *, sort: str, page_size: int) -> Paginated[IntegrationAction]:
        """Every mapping of ``model`` on the channel, in ``sort`` order."""
        return self._client.actions.find(
            page_size=page_size, content_type_name=model, channel_id=self.channel_id, sort=sort
        )

    def mapping_of(self, model: str, pk: int) -> IntegrationAction | None:
        """The mapping of object ``pk`` of ``model``, if it has one."""
        query = self._client.actions.find(
            content_type_name=model, channel_id=self.channel_id, object_id=pk
        )
        return query.first()

    def actions_of(self, model: str, pks: Iterable[int]) -> dict[int, IntegrationAction]:
        """The mapping of each of ``pks`` that has one (``object_id__in`` in chunks)."""
        return {
            action.object_id: action
            for action in self._api().actions.for_objects(model, pks)
            if action.object_id is not None and action.model_name in (None, model)
        }

    def statuses(self, objects: Mapping[str, Iterable[int]]) -> dict[tuple[str, int], str]:
        """The status of each of these objects' mappings (pks by content model), for
        those that have one. Every model's chunks are read side by side."""
        parts = [
            (model, part)
            for model, pks in objects.items()
            for part in chunked(dict.fromkeys(pks), ID_CHUNK)
        ]
        found = self.map_concurrently(
            lambda job: [(job[0], a) for a in self._api().actions.for_objects(*job)], parts
        )
        return {
            (model, action.object_id): str(action.status)
            for actions in found
            for model, action in actions
            if action.object_id is not None and action.model_name in (None, model)
        }

    def remote_ids(self, model: str, pks: Iterable[int]) -> dict[int, str]:
        """Channel ids of objects the channel has (whatever their last sync's outcome, and
        also while a batch holds them), by Omnitron pk."""
        actions = self._per_chunk(lambda api, part: api.actions.for_objects(model, part), pks)
        return {
            action.object_id: action.remote_id
            for action in actions
            if action.object_id is not None and action.remote_id
        }

    def actions_by_remote_id(
        self, model: str, remote_ids: Iterable[str]
    ) -> list[IntegrationAction]:
        """Mappings of ``model`` whose remote id is one of ``remote_ids``, in
        ``remote_id__in`` chunks. An id containing a comma cannot travel in an ``__in``
        list, so those few are asked one by one with ``remote_id__exact``. Results are
        checked too: an Omnitron that ignored a filter must not hand us other objects'
        mappings."""
        wanted = set(remote_ids)
        plain = sorted(r for r in wanted if "," not in r)
        odd = sorted(r for r in wanted if "," in r)
        api = self._api().actions
        found: list[IntegrationAction] = list(api.for_remote_ids(model, plain)) if plain else []
        for remote_id in odd:
            found += api.find(
                content_type_name=model, channel_id=self.channel_id, remote_id__exact=remote_id
            )
        return [
            action
            for action in found
            if action.remote_id in wanted and action.model_name in (None, model)
        ]

    def map_object(
        self, model: str, pk: int, remote_id: str, *, version_date: str
    ) -> IntegrationAction:
        """Map object ``pk`` to ``remote_id``, once: after a lost answer or a refusal (it
        has a mapping already) the mapping is read back and settled."""
        actions = self._client.actions
        try:
            return actions.create(model, pk, remote_id, version_date=version_date)
        except MAPPING_WRITE_ERRORS:
            found = self.mapping_of(model, pk)
            if found is None:
                return actions.create(model, pk, remote_id, version_date=version_date)
            if found.remote_id != remote_id:
                return actions.update(found.key, {"remote_id": remote_id})
            return found

    def update_mapping(
        self, pk: int, *, remote_id: str | None = None, version_date: str | None = None
    ) -> IntegrationAction:
        """Change mapping ``pk``'s remote id and/or ``version_date`` (the fields given)."""
        changes: dict[str, Any] = {"remote_id": remote_id, "version_date": version_date}
        return self._api().actions.update(
            pk, {key: value for key, value in changes.items() if value is not None}
        )

    def forget_mapping(self, pk: int) -> None:
        """Delete mapping ``pk`` (a mapping already gone counts as deleted)."""
        if not self._api().actions.delete(pk):
            logger.info("integration action %s was already deleted", pk)

    def forget(self, actions: Iterable[IntegrationAction]) -> None:
        """Delete mappings whose objects are gone from Omnitron and from the channel."""
        for action in actions:
            if action.pk is not None:
                self.forget_mapping(action.pk)


def _pk(batch: BatchRequest) -> int:
    if batch.pk is None:
        raise ItemError("batch request without a pk")
    return batch.pk
