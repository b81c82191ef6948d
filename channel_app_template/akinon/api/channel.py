"""The channel this app serves and its catalog: ``channels/{id}/``, ``catalogs/{id}/``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area, Session
from channel_app_template.akinon.models import Catalog, Channel

__all__ = ["ChannelApi"]


class ChannelApi(Area):
    def __init__(self, session: Session, catalog_id: int) -> None:
        super().__init__(session)
        self.catalog_id = catalog_id

    def get(self) -> Channel:
        return self._get(f"channels/{self.channel_id}/", Channel)

    def update(self, changes: Mapping[str, Any]) -> Channel:
        return self._update(f"channels/{self.channel_id}/", Channel, dict(changes))

    def update_schema(self, schema: Mapping[str, Mapping[str, Any]]) -> Channel:
        """Merge ``schema`` fields into the channel's conf schema (others are kept)."""
        merged = {**self.get().schema_, **schema}
        return self.update({"schema": merged})

    def set_category_tree(self, category_tree: int) -> Channel:
        return self.update({"category_tree": category_tree})

    def catalog(self) -> Catalog:
        return self._get(f"catalogs/{self.catalog_id}/", Catalog)
