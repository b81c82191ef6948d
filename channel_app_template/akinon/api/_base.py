"""What every area of the Omnitron API shares: one session, paths, JSON to models, ``__in``
chunks. Each area module (:mod:`.products`, :mod:`.batches`, ...) is a thin typed class
over this base and the one Omnitron HTTP client (:mod:`channel_app_template.akinon.http`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from channel_app_template.akinon.http import OmnitronHttp
from channel_app_template.akinon.pagination import (
    DEFAULT_PAGE_SIZE,
    ListFetch,
    Paginated,
    Unreadable,
    UnreadableHook,
    chunked,
    read_row,
)
from channel_app_template.errors import ItemError, NotFoundError, RunError
from channel_app_template.transport import expect_object

__all__ = ["ID_CHUNK", "Area", "Session", "chunked", "join_ids"]

T = TypeVar("T", bound=BaseModel)

ID_CHUNK = 400  # ids per ``__in`` lookup: about 3 KB of URL, well under common 8 KB limits
BULK_PAGE_SIZE = 500  # rows per page of lookups with many rows per id


def join_ids(ids: Iterable[int | str]) -> str:
    """Django-filter ``__in`` value: a comma-separated string."""
    return ",".join(str(i) for i in ids)


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset filters; booleans as Django expects them; lists stay repeated params."""
    cleaned: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        cleaned[name] = value
    return cleaned


def validate(model: type[T], data: Any) -> T:
    """Parse one object; a shape we cannot read is Omnitron breaking its contract."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors()[:5])
        raise RunError(f"Omnitron sent a {model.__name__} we cannot read ({fields})") from None


@dataclass
class Session:
    """One channel on one HTTP client, shared by every area of a client.

    ``on_unreadable`` receives the rows of every list read through the session that do not
    fit their model (see :class:`~channel_app_template.akinon.pagination.Paginated`);
    unset, they are logged.
    """

    http: OmnitronHttp
    channel_id: int
    on_unreadable: UnreadableHook | None = None


class Area:
    """Base of the area classes: the requests they make, typed."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def http(self) -> OmnitronHttp:
        return self._session.http

    @property
    def channel_id(self) -> int:
        return self._session.channel_id

    def _path(self, resource: str, *parts: object) -> str:
        """``channel/{id}/{resource}/[part/...]`` with Omnitron's trailing slash."""
        tail = "".join(f"{part}/" for part in parts)
        return f"channel/{self.channel_id}/{resource}/{tail}"

    def _list(
        self,
        path: str,
        model: type[T],
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        headers: Mapping[str, str] | None = None,
    ) -> Paginated[T]:
        def get(list_path: str, page_params: Mapping[str, Any]) -> Any:
            return self.http.get(list_path, _clean(page_params), headers=headers)

        return Paginated(
            ListFetch(get, path, self.http.limits.max_pages),
            model,
            _clean(params or {}),
            page_size=page_size,
            on_unreadable=self._session.on_unreadable,
            source=path,
        )

    def _by_ids(
        self,
        path: str,
        model: type[T],
        ids: Iterable[int | str],
        *,
        lookup: str = "pk__in",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[T]:
        """Objects whose id is in ``ids``: one request per chunk of ids, not one per id."""
        for part in chunked(dict.fromkeys(ids), ID_CHUNK):
            query = {**(params or {}), lookup: join_ids(part)}
            yield from self._list(path, model, query, page_size=len(part), headers=headers)

    def _all_of_chunks(
        self,
        path: str,
        model: type[T],
        lookup: str,
        ids: Iterable[int],
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[T]:
        """Like :meth:`_by_ids`, for lookups with many rows per id: big pages, not id-sized."""
        for part in chunked(dict.fromkeys(ids), ID_CHUNK):
            query = {**(extra or {}), lookup: join_ids(part)}
            yield from self._list(path, model, query, page_size=BULK_PAGE_SIZE)

    def _get(
        self,
        path: str,
        model: type[T],
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """One object; one that does not fit its model is an :class:`ItemError` about that
        object (its caller fails it, the run goes on)."""
        data = self.http.get(path, _clean(params or {}), headers=headers)
        if not isinstance(data, dict):
            return self._model(model, data, "GET", path)
        parsed = read_row(model, data, path, require_pk=False)
        if isinstance(parsed, Unreadable):
            raise ItemError(parsed.describe(), method="GET", path=path)
        return parsed

    def _create(self, path: str, model: type[T], body: object) -> T:
        """POST: never repeated after an ambiguous failure (see :mod:`..http`)."""
        return self._model(model, self.http.post(path, body), "POST", path)

    def _update(self, path: str, model: type[T], changes: object) -> T:
        """PATCH with absolute field values: safe to repeat."""
        return self._model(model, self.http.patch(path, changes), "PATCH", path)

    def _delete(self, path: str) -> bool:
        """DELETE, idempotent: a 404 (gone already, e.g. by our own earlier attempt whose
        answer was lost) counts as done. False when it was gone."""
        try:
            self.http.delete(path)
        except NotFoundError:
            return False
        return True

    @staticmethod
    def _model(model: type[T], data: Any, method: str, path: str) -> T:
        expect_object(data, peer="Omnitron", method=method, path=path)
        return validate(model, data)


def language_header(language: str | None) -> dict[str, str] | None:
    """``Accept-Language`` for product reads in one language (None: Omnitron's default)."""
    return {"Accept-Language": language} if language else None
