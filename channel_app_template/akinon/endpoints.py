"""Shared plumbing of the typed endpoint groups: paths, JSON to models, ``__in`` chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from channel_app_template.akinon.http import OmnitronHttp
from channel_app_template.akinon.pagination import (
    DEFAULT_PAGE_SIZE,
    ListFetch,
    Paginated,
    Unreadable,
    UnreadableHook,
    read_row,
)
from channel_app_template.errors import ItemError, RunError
from channel_app_template.transport import expect_object

T = TypeVar("T", bound=BaseModel)

ID_CHUNK = 400  # ids per ``__in`` lookup: about 3 KB of URL, well under common 8 KB limits


def join_ids(ids: Iterable[int | str]) -> str:
    """Django-filter ``__in`` value: a comma-separated string."""
    return ",".join(str(i) for i in ids)


def chunked(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


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


class EndpointGroup:
    """Base of :class:`CatalogApi` and :class:`OrdersApi`: one channel, one HTTP client.

    ``on_unreadable`` receives the rows of every list read through this group that do not
    fit their model (see :class:`~.pagination.Paginated`); unset, they are logged.
    """

    def __init__(self, http: OmnitronHttp, channel_id: int) -> None:
        self.http = http
        self.channel_id = channel_id
        self.on_unreadable: UnreadableHook | None = None

    def channel_path(self, resource: str, *parts: object) -> str:
        """``channel/{id}/{resource}/[part/...]`` with Omnitron's trailing slash."""
        tail = "".join(f"{part}/" for part in parts)
        return f"channel/{self.channel_id}/{resource}/{tail}"

    def list_of(
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
            on_unreadable=self.on_unreadable,
            source=path,
        )

    def by_ids(
        self,
        path: str,
        model: type[T],
        ids: Iterable[int | str],
        *,
        lookup: str = "pk__in",
        params: Mapping[str, Any] | None = None,
        chunk: int = ID_CHUNK,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[T]:
        """Objects whose id is in ``ids``: one request per ``chunk`` ids, not one per id."""
        for part in chunked(dict.fromkeys(ids), chunk):
            query = {**(params or {}), lookup: join_ids(part)}
            yield from self.list_of(path, model, query, page_size=len(part), headers=headers)

    def get_one(
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

    def create(self, path: str, model: type[T], body: object) -> T:
        """POST: never repeated after an ambiguous failure (see :mod:`.http`)."""
        return self._model(model, self.http.post(path, body), "POST", path)

    def update(self, path: str, model: type[T], changes: object) -> T:
        """PATCH with absolute field values: safe to repeat."""
        return self._model(model, self.http.patch(path, changes), "PATCH", path)

    @staticmethod
    def _model(model: type[T], data: Any, method: str, path: str) -> T:
        expect_object(data, peer="Omnitron", method=method, path=path)
        return validate(model, data)
