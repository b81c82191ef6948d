"""A marketplace API client's common part, on the framework's transport: :class:`ApiClient`.

A channel's own client (``channel-app new-channel`` writes one) subclasses it and keeps only
what is the marketplace's: its name, its auth, its paths and payloads. The transport
(:class:`~channel_app_template.transport.HttpClient`) brings the rest: timeouts and a
deadline per request, retries with backoff and ``Retry-After`` for what is safe to repeat,
``AmbiguousWriteError`` instead of repeating a write whose fate is unknown, a cap on the
size of an answer, pagination that cannot loop, errors naming the marketplace and the path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

from pydantic import SecretStr

from channel_app_template.errors import ConfigurationError
from channel_app_template.transport import (
    Auth,
    BearerAuth,
    HttpClient,
    Limits,
    RetryPolicy,
    Timeouts,
)

__all__ = ["ApiClient"]


class ApiClient:
    """One conversation with a marketplace API; one instance per worker thread."""

    peer: ClassVar[str] = "marketplace"
    """The marketplace's name in errors and logs."""

    def __init__(
        self,
        api_url: str,
        api_key: SecretStr,
        timeout: float = 30.0,
        *,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        deadline: float | None = None,
        **options: Any,
    ) -> None:
        """``limits`` and ``deadline``: pass ``context.http_limits`` and
        ``context.http_timeouts.total`` so the deployment's ``HTTP_*`` settings apply;
        ``options`` go to :class:`~channel_app_template.transport.HttpClient`."""
        timeouts = Timeouts(read=timeout, total=deadline) if deadline else Timeouts(read=timeout)
        self._settings: dict[str, Any] = {
            "timeouts": timeouts,
            "retry": retry,
            "limits": limits,
            **options,
        }
        self.api_url = api_url
        self.api_key = api_key
        self._http: HttpClient | None = None

    def auth(self) -> Auth:
        """How requests authenticate: a bearer token by default; override for, e.g.,
        ``ApiKeyAuth(self.api_key, "X-Api-Key")``."""
        return BearerAuth(self.api_key)

    @property
    def http(self) -> HttpClient:
        """The transport, built on first use: a channel whose ``api_url`` is not configured
        yet can still be loaded and described, and fails only when it calls the API (with a
        ``ConfigurationError`` saying what is missing)."""
        if self._http is None:
            if not self.api_url:
                raise ConfigurationError(f"{self.peer}: api_url is not configured in channel.conf")
            self._http = HttpClient(
                self.api_url, peer=self.peer, auth=self.auth(), **self._settings
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One JSON call; the decoded body of a 2xx answer.

        ``kwargs``: ``params``, ``json``, ``headers`` and ``idempotent`` (say ``True`` for a
        POST the API deduplicates, e.g. by an idempotency key, so it may be repeated).
        """
        return self.http.request(method, path, **kwargs)

    def iter_items(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
        style: Literal["offset", "cursor", "page"] = "offset",
        rows: str = "items",
    ) -> Iterator[Any]:
        """Every row of a paged list, one page in memory at a time.

        ``style`` is how the API pages (``offset``/``next_offset``, ``cursor``/``next_cursor``
        or ``page`` numbers), ``rows`` the key of the rows; a row's ``id`` identifies it, so a
        page served twice is refused.
        """
        yield from self.http.iter_rows(
            path,
            params,
            style=style,
            limit=page_size,
            rows=rows,
            identity=lambda row: row.get("id") if isinstance(row, dict) else None,
        )
