"""Products of the channel: listings, the pending views, mapped attributes, categories.

The ``inserts``/``updates`` views list what was never sent / changed since it was sent;
their semantics are inferred from how Akinon's clients use them (see ``omnitron-api.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from channel_app_template.akinon.api._base import Area, language_header
from channel_app_template.akinon.models import MappedProduct, Product, ProductCategory
from channel_app_template.akinon.pagination import DEFAULT_PAGE_SIZE, Paginated

__all__ = ["PENDING_KINDS", "PRODUCT_TYPE_SIMPLE", "ProductsApi"]

PENDING_KINDS = ("inserts", "updates")
PRODUCT_TYPE_SIMPLE = 0


class ProductsApi(Area):
    def find(self, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Paginated[Product]:
        return self._list(self._path("products"), Product, filters, page_size=page_size)

    def pending(
        self,
        kind: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        language: str | None = None,
        product_type: int | None = PRODUCT_TYPE_SIMPLE,
        **filters: Any,
    ) -> Paginated[Product]:
        """``inserts`` (never sent), ``updates`` (changed since sent) or ``inserts_or_updates``."""
        if kind not in (*PENDING_KINDS, "inserts_or_updates"):
            raise ValueError(f"unknown pending kind {kind!r}")
        return self._list(
            self._path("products", kind),
            Product,
            {"product_type": product_type, **filters},
            page_size=page_size,
            headers=language_header(language),
        )

    def by_ids(self, pks: Iterable[int], language: str | None = None) -> Iterator[Product]:
        return self._by_ids(
            self._path("products"),
            Product,
            pks,
            params={"sort": "id"},
            headers=language_header(language),
        )

    def mapped(self, product_pk: int, language: str | None = None) -> MappedProduct:
        """The product's attributes mapped for this channel; 406 (unmappable) is an ItemError."""
        return self._get(
            self._path("mapped_products", product_pk),
            MappedProduct,
            headers=language_header(language),
        )

    def categories(self, **filters: Any) -> Paginated[ProductCategory]:
        """``product_categories/detailed/`` (filter ``product`` or ``product__in``)."""
        return self._list(self._path("product_categories", "detailed"), ProductCategory, filters)
