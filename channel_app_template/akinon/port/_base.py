"""The port's own state: its API clients (one per thread), its thread pool, the rows
Omnitron sent that it could not read, the channel, and error reports."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, Protocol, Self, TypeVar

from channel_app_template.akinon.api import ID_CHUNK, chunked
from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.dates import parse_date
from channel_app_template.akinon.models import Catalog, Channel
from channel_app_template.akinon.pagination import Unreadable
from channel_app_template.errors import ChannelAppError
from channel_app_template.settings import Settings

__all__ = ["UNREADABLE_MEMORY", "PortBase", "ReportOnce"]

logger = logging.getLogger("channel_app_template.akinon.port")

UNREADABLE_MEMORY = 10_000  # unreadable pks remembered per content type and run
K = TypeVar("K")
V = TypeVar("V")


class ReportOnce(Protocol):
    """Decides whether a row in a given state was reported before (see ``FailureBook``)."""

    def first_report(self, model: str, pk: int, fingerprint: str) -> bool: ...


class PortBase:
    """One channel's Omnitron, for one task run, over one client (plus one per pool thread).

    ``client_factory`` makes the extra clients of the pool's threads (an HTTP client is not
    shared between threads running requests); without it, everything runs on the caller's.
    """

    def __init__(
        self,
        client: OmnitronClient,
        *,
        client_factory: Callable[[], OmnitronClient] | None = None,
        concurrency: int = 8,
    ) -> None:
        self._client = client
        self._client_factory = client_factory
        self._concurrency = max(1, concurrency)
        self._local = threading.local()
        self._extra_clients: list[OmnitronClient] = []
        self._extra_lock = threading.Lock()
        self._owner = threading.get_ident()
        self._pool: ThreadPoolExecutor | None = None
        self.reports: ReportOnce | None = None
        """Set by the runtime: unreadable rows are then reported once per state."""
        self._unreadable: dict[str, set[int]] = defaultdict(set)
        client.on_unreadable = self.unreadable_row

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            OmnitronClient.from_settings(settings),
            client_factory=lambda: OmnitronClient.from_settings(settings),
            concurrency=settings.omnitron_concurrency,
        )

    @property
    def channel_id(self) -> int:
        return self._client.channel_id

    @property
    def parallel(self) -> bool:
        """Whether the pool's threads have clients of their own, so calls may overlap."""
        return self._client_factory is not None and self._concurrency > 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._client.close()
        for extra in self._extra_clients:
            extra.close()

    def requests_made(self) -> int:
        """HTTP requests sent to Omnitron so far, by every client of this port (benchmarks)."""
        clients = [self._client, *self._extra_clients]
        return sum(client.http.stats.requests for client in clients)

    # --- Rows Omnitron sent that we cannot read ----------------------------------------

    def unreadable_row(self, row: Unreadable) -> None:
        """A listed row that does not fit its model, skipped by the read that met it:
        logged, remembered for this run (see :meth:`unreadable_pks`) and, once per state
        of the row, reported on the object in Omnitron."""
        model = row.content_type or row.model
        logger.warning("%s; skipped", row.describe(), extra={"model": model, "object_pk": row.pk})
        if row.pk is None:
            return
        seen = self._unreadable[model]
        if len(seen) < UNREADABLE_MEMORY:
            seen.add(row.pk)
        if self.reports is None or row.content_type is None:
            return
        if not self.reports.first_report(row.content_type, row.pk, f"row:{row.fingerprint}"):
            return
        try:
            self.report(
                row.content_type,
                row.pk,
                code=f"Omnitron-Read-{row.content_type}-{row.pk}",
                description=f"channel_app: {row.describe()}",
                modified_date=row.modified_date if parse_date(row.modified_date) else None,
            )
        except ChannelAppError as error:
            logger.warning("could not report unreadable %s %s: %s", model, row.pk, error)

    def unreadable_pks(self, model: str) -> set[int]:
        """Objects of content type ``model`` met unreadable by this integration (whose
        life is one task run): they exist, so nothing may treat them as gone (delete their
        mappings, create them again)."""
        return set(self._unreadable.get(model, ()))

    # --- The channel -----------------------------------------------------------------

    @cached_property
    def channel(self) -> Channel:
        """The channel as it was when the run first asked (its ``conf`` for the run)."""
        return self._client.channel.get()

    @cached_property
    def catalog(self) -> Catalog:
        return self._client.channel.catalog()

    def current_channel(self) -> Channel:
        """The channel as Omnitron has it now (setup flows compare and write it)."""
        return self._client.channel.get()

    def update_channel_schema(self, schema: Mapping[str, Mapping[str, Any]]) -> Channel:
        """Merge these fields into the channel's settings form (others are kept)."""
        return self._client.channel.update_schema(schema)

    # --- Error reports -----------------------------------------------------------------

    def report(
        self,
        model: str,
        pk: int,
        *,
        code: str,
        description: str,
        modified_date: str | None = None,
        raw_request: str = "",
        raw_response: str = "",
    ) -> None:
        """An error report on object ``pk`` of content type ``model``, shown to the merchant."""
        self._api().reports.create(
            model,
            pk,
            error_code=code[:255],
            error_desc=description,
            obj_modified_date=modified_date,
            raw_request=raw_request,
            raw_response=raw_response,
        )

    # --- Threads -----------------------------------------------------------------------

    def executor(self) -> ThreadPoolExecutor:
        """One pool for the integration's lifetime, so its threads (and their clients)
        are reused from batch to batch instead of piling up."""
        if self._pool is None:
            workers = self._concurrency + 4 if self._client_factory else 1
            self._pool = ThreadPoolExecutor(
                workers, thread_name_prefix="omnitron", initializer=self._mark_pool_thread
            )
        return self._pool

    def _mark_pool_thread(self) -> None:
        self._local.in_pool = True

    def _api(self) -> OmnitronClient:
        """This thread's client: the port's own on the thread that made it, else one per
        pool thread (made on first use, closed with the port)."""
        if self._client_factory is None or threading.get_ident() == self._owner:
            return self._client
        client: OmnitronClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory()
            client.on_unreadable = self.unreadable_row
            self._local.client = client
            with self._extra_lock:
                self._extra_clients.append(client)
        return client

    @property
    def concurrency(self) -> int:
        """Calls to Omnitron this port runs at once, at most (``OMNITRON_CONCURRENCY``)."""
        return self._concurrency

    def map_concurrently(self, work: Callable[[K], V], items: Sequence[K]) -> list[V]:
        """``work`` over ``items`` on the bounded pool (one client per thread), results in
        order; one after another without pool clients, or when called from a pool thread (a
        job waiting on the pool it occupies could wait forever)."""
        if len(items) < 2 or not self.parallel or getattr(self._local, "in_pool", False):
            return [work(item) for item in items]
        return list(self.executor().map(work, items))

    def _concurrently(self, work: Callable[[K], V], keys: Sequence[K]) -> dict[K, V]:
        """Independent per-object calls on the bounded pool, one client per thread."""
        return dict(zip(keys, self.map_concurrently(work, keys), strict=True))

    def _per_chunk(
        self, read: Callable[[OmnitronClient, list[K]], Iterable[V]], ids: Iterable[K]
    ) -> list[V]:
        """``read(client, chunk)`` over ``ID_CHUNK``-sized chunks of ``ids`` (each id once),
        the chunks side by side on the pool, results in chunk order: a batch's bulk look-up
        costs one round trip instead of one per chunk. Called from a pool thread (a job
        that is itself on the pool), the chunks run one after another there instead: a job
        waiting on the pool it occupies could wait forever."""
        parts = list(chunked(dict.fromkeys(ids), ID_CHUNK))
        done = self.map_concurrently(lambda part: list(read(self._api(), part)), parts)
        return [value for values in done for value in values]
