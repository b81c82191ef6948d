"""The shape of a catalog resource: what the engine asks of each kind of object.

A :class:`CatalogResource` is data, dlt-style: where its pending objects come from, which
channel commands carry them, how a page becomes channel items (:class:`Prepared`) and how
results are matched back. The engine reads these fields and never a resource's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from channel_app_template.akinon.integration import OmnitronIntegration, Tracked
from channel_app_template.akinon.models import Catalog, ContentType, IntegrationAction
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.channel import (
    BatchRequestResponseDto,
    ChannelConfig,
    FailedReasonType,
    OrderBatchRequestResponseDto,
    ResponseStatus,
    ResultDto,
    SyncItem,
)


@dataclass(frozen=True)
class Failure:
    """An object that was not sent, and why (it gets an error report and an error action)."""

    tracked: Tracked
    reason: FailedReasonType
    message: str


@dataclass
class Cover:
    """The Omnitron objects one channel result row settles, and their default remote id."""

    tracked: list[Tracked] = field(default_factory=list)
    remote_id: str | None = None


@dataclass
class Prepared:
    items: list[SyncItem[Any]] = field(default_factory=list)
    covers: dict[str, Cover] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def add(self, item: SyncItem[Any], key: str, tracked: Sequence[Tracked]) -> None:
        if key in self.covers:
            for each in tracked:
                self.fail(
                    each,
                    FailedReasonType.CHANNEL_APP,
                    f"another object in this batch has the same matching key {key!r}",
                )
            return
        self.items.append(item)
        self.covers[key] = Cover(list(tracked), item.remote_id)

    def fail(self, tracked: Tracked, reason: FailedReasonType, message: str) -> None:
        self.failures.append(Failure(tracked, reason, message))

    def riders(self, model: str) -> list[Tracked]:
        """The objects of other models than ``model`` that items carry (a product's stock,
        price and images, see ``ChannelIntegration.product_carries``)."""
        return [t for cover in self.covers.values() for t in cover.tracked if t.model != model]


@dataclass(frozen=True)
class PrepareContext:
    omnitron: OmnitronIntegration
    match_path: str
    kind: str  # "inserts" | "updates" | "deleted"
    list_id: int | None = None
    config: ChannelConfig = field(default_factory=ChannelConfig)
    carries: frozenset[str] = frozenset()  # the channel's ``product_carries``


Caller = Callable[[Any, Sequence[SyncItem[Any]]], list[Any]]
Reader = Callable[[OmnitronIntegration, str, int, int | None], Paginated[Any]]
Preparer = Callable[[PrepareContext, Sequence[Any]], Prepared]
ByIds = Callable[[OmnitronIntegration, Sequence[int]], Iterable[Any]]
ChangedSinceFailure = Callable[[OmnitronIntegration, Sequence[IntegrationAction]], list[int]]
RowKey = Callable[[ResultDto], str]
ListIds = Callable[[Catalog], Sequence[int]]


def by_sku(row: ResultDto) -> str:
    """A result row's matching key: the order number for order rows, the sku otherwise."""
    if isinstance(row, OrderBatchRequestResponseDto):
        return row.number
    return row.sku


def by_remote_id(row: ResultDto) -> str:
    """A result row's matching key when Omnitron has no sku left (deletions)."""
    return row.remote_id


def failed_row(
    key: str, message: str, reason: FailedReasonType = FailedReasonType.REMOTE
) -> ResultDto:
    """The result row of an item the channel refused, keyed both ways (sku and remote id)
    so whatever the resource matches on finds it."""
    return BatchRequestResponseDto(
        status=ResponseStatus.FAIL,
        sku=key,
        remote_id=key,
        message=message,
        failed_reason_type=reason,
    )


@dataclass(frozen=True)
class CatalogResource:
    """One kind of catalog object and the channel commands that carry it."""

    name: str
    model: ContentType  # the batch request's content type
    send_inserted: str
    send_updated: str
    check: str
    read_pending: Reader
    prepare: Preparer
    object_model: ContentType | None = None  # content type of the objects (default ``model``)
    call: Caller | None = None  # for channel commands that take one item at a time
    list_setting: str | None = None  # channel.conf key mapping extra list ids, if any
    extra_lists: ListIds | None = None  # the catalog's extra lists that setting may map
    read_by_ids: ByIds | None = None  # objects by pk, for re-sending failed ones
    changed_since_failure: ChangedSinceFailure | None = None
    """Which failed objects (by their ``error`` mappings) saw what they depend on change
    since they failed: they are re-sent although they did not change themselves."""
    view_keeps_failures: bool = False
    """The pending view lists failed objects again on every run (deletions): each send
    then counts as an attempt, with backoff, see :mod:`.failure_book`."""
    matched_by: RowKey = by_sku
    """What a channel result row is matched on (the key ``prepare`` gave its item)."""
    deletes: tuple[ContentType, ...] = ()
    """Deletions: a success row confirms the object is gone from the channel (no remote id
    is recorded), and the mappings of these content types holding its remote id are
    dropped."""

    @property
    def objects_model(self) -> ContentType:
        return self.object_model or self.model

    def command(self, kind: str) -> str:
        return self.send_inserted if kind == "inserts" else self.send_updated


def tracked_of(obj: Any, model: str) -> Tracked:
    return Tracked(pk=int(obj.pk), model=model, version_date=obj.modified_date)
