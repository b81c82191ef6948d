"""Stocks, prices and images: rows that belong to one product, one class for the three.

Stocks and prices come in the catalog's default list and in extra lists, each under its
own route (``extra_product_stocks/?stock_list=``); images have no extra lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from channel_app_template.akinon.api._base import Area, Session
from channel_app_template.akinon.api.products import PENDING_KINDS
from channel_app_template.akinon.models import OmnitronModel
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated

__all__ = ["ProductRowsApi"]

RowT = TypeVar("RowT", bound=OmnitronModel)


class ProductRowsApi(Area, Generic[RowT]):
    """``resource`` (e.g. ``product_prices``) and, with ``list_param``, ``extra_<resource>``
    for the extra lists; ``id_lookup`` is how the route filters by primary key."""

    def __init__(
        self,
        session: Session,
        resource: str,
        model: type[RowT],
        *,
        list_param: str | None = None,
        id_lookup: str = "pk__in",
    ) -> None:
        super().__init__(session)
        self._resource = resource
        self._model_type = model
        self._list_param = list_param
        self._id_lookup = id_lookup

    def find(
        self, page_size: int = DEFAULT_PAGE_SIZE, *, list_id: int | None = None, **filters: Any
    ) -> Paginated[RowT]:
        """Rows of the default list, or of the extra list ``list_id``."""
        return self._rows(None, list_id, page_size, filters)

    def pending(
        self, kind: str, list_id: int | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Paginated[RowT]:
        """``inserts`` or ``updates`` of the default list, or of the extra list ``list_id``."""
        if kind not in PENDING_KINDS:
            raise ValueError(f"unknown pending kind {kind!r}")
        return self._rows(kind, list_id, page_size, {})

    def by_ids(self, pks: Iterable[int]) -> Iterator[RowT]:
        return self._by_ids(
            self._path(self._resource), self._model_type, pks, lookup=self._id_lookup
        )

    def _rows(
        self, kind: str | None, list_id: int | None, page_size: int, filters: Mapping[str, Any]
    ) -> Paginated[RowT]:
        resource, params = self._resource, dict(filters)
        if list_id is not None:
            if self._list_param is None:
                raise ValueError(f"{self._resource} have no extra lists")
            resource, params = f"extra_{resource}", {self._list_param: list_id, **filters}
        path = self._path(resource, kind) if kind else self._path(resource)
        return self._list(path, self._model_type, params, page_size=page_size)
