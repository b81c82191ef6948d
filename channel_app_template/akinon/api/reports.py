"""Error reports: what Omnitron shows the merchant about one object (a product the
marketplace refused, an order that could not be created, an unknown city...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_app_template.akinon.api._base import Area, Session
from channel_app_template.akinon.models import ContentType, ContentTypeInfo, ErrorReport
from channel_app_template.errors import ItemError, NotFoundError, RunError

__all__ = ["ADDRESS_KINDS", "ReportsApi"]

ADDRESS_KINDS = ("country", "city", "township", "district")


class ReportsApi(Area):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._content_type_ids: dict[str, int] = {}

    def content_type_id(self, model: str) -> int:
        """The id of content type ``model``; asked once per client instance."""
        if model not in self._content_type_ids:
            query = self._list("content_types/", ContentTypeInfo, {"model": model})
            try:
                found = query.one()
            except (NotFoundError, ItemError) as error:
                raise RunError(f"Omnitron has no single content type {model!r}") from error
            self._content_type_ids[model] = found.key
        return self._content_type_ids[model]

    def create(
        self,
        action_model: str,
        action_object_id: int,
        *,
        error_code: str,
        error_desc: str,
        obj_modified_date: str | None = None,
        raw_request: str = "",
        raw_response: str = "",
    ) -> ErrorReport:
        """An error report on one object, targeted at the channel; content types given by
        model name. A POST, never repeated after an ambiguous failure (a duplicate report
        is noise)."""
        report = ErrorReport(
            action_content_type=self.content_type_id(action_model),
            action_object_id=action_object_id,
            target_content_type=self.content_type_id(ContentType.CHANNEL),
            target_object_id=self.channel_id,
            obj_modified_date=obj_modified_date,
            error_code=error_code,
            error_desc=error_desc,
            raw_request=raw_request,
            raw_response=raw_response,
            is_ok=False,
        )
        body = report.model_dump(mode="json", exclude={"pk", "id"}, exclude_none=True)
        return self._create(self._path("error_reports"), ErrorReport, body)

    def create_address(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``error_reports/{country|city|township|district}/``: an address mapping task."""
        if kind not in ADDRESS_KINDS:
            raise ValueError(f"unknown address error kind {kind!r}")
        data = self.http.post(self._path("error_reports", kind), dict(body))
        return data if isinstance(data, dict) else {}
