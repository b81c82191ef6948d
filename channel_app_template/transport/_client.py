"""The client channels and Omnitron use: JSON over HTTP with one peer, composed of small
objects (auth, retry policy, timeouts, limits, error table) under the rules of
:mod:`~channel_app_template.transport._retry`.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, Self

import httpx

from channel_app_template.errors import (
    AmbiguousWriteError,
    ConfigurationError,
)
from channel_app_template.transport._auth import Auth
from channel_app_template.transport._classify import DEFAULT_ERRORS
from channel_app_template.transport._decode import (
    Answer,
    encode_json,
    error_payload,
    expect_list,
    expect_object,
)
from channel_app_template.transport._errors import UnexpectedAnswer
from channel_app_template.transport._limits import Limits, Timeouts
from channel_app_template.transport._network import NetworkTransport, env_proxy
from channel_app_template.transport._paging import Page, PageToken, walk_pages
from channel_app_template.transport._retry import IDEMPOTENT_METHODS, RetryPolicy
from channel_app_template.transport._sender import RequestStats, RetryingSender

__all__ = [
    "ClassifyHook",
    "Closing",
    "HttpClient",
]

# (answer, *, peer, method, path, repeatable, payload) -> the exception for a final error
# answer; a StatusErrors table is one.
ClassifyHook = Callable[..., Exception]
_NO_AUTH = Auth()


class Closing:
    """``with`` support for a client that holds connections: leaving the block calls
    :meth:`close` (the one thing a subclass writes)."""

    def close(self) -> None:
        """Release the connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HttpClient(Closing):
    """JSON over HTTP with one peer, under the rules of ``transport._retry``.

    ``base_url`` is the API root (paths are joined to it); ``peer`` is the name errors and
    logs use ("Omnitron", "Bazaar marketplace"). The parts, each a small object:

    * ``auth`` adds credentials and may repeat a call after a 401 (:class:`Auth`);
    * ``retry`` (:class:`RetryPolicy`), ``timeouts`` (:class:`Timeouts`, the per-attempt
      deadline included) and ``limits`` (:class:`Limits`) bound each call;
    * ``classify`` maps a final error answer to an exception (a
      :class:`~channel_app_template.transport.StatusErrors` table, :data:`DEFAULT_ERRORS`
      unless given); ``error_payload`` decodes an error body for it;
    * ``on_answer`` sees every answer (e.g. to read rate-limit headers);
    * ``transport`` replaces the network (``httpx.MockTransport`` in tests; the deadline is
      then enforced only between body chunks). By default it is
      :class:`~channel_app_template.transport._network.NetworkTransport`, through the proxy
      the environment names (``HTTPS_PROXY``, ``NO_PROXY``...) as ``requests`` would.

    One instance per worker thread or task; close it (or use ``with``) when done.
    """

    def __init__(
        self,
        base_url: str,
        *,
        peer: str,
        auth: Auth | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent_methods: Iterable[str] = IDEMPOTENT_METHODS,
        classify: ClassifyHook = DEFAULT_ERRORS,
        error_payload: Callable[[Answer], Any] = error_payload,
        on_answer: Callable[[Answer], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the {peer} URL must start with https:// (or http://)")
        self.base_url = base_url.rstrip("/") + "/"
        self.peer = peer
        self.auth = auth or _NO_AUTH
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.idempotent_methods = frozenset(m.upper() for m in idempotent_methods)
        self._classify = classify
        self._error_payload = error_payload
        self.transport = transport or NetworkTransport(
            self.limits.pool_size, env_proxy(self.base_url)
        )
        self.client = httpx.Client(
            headers={"Accept": "application/json", **(headers or {})},
            transport=self.transport,
            timeout=httpx.Timeout(
                connect=self.timeouts.connect,
                read=self.timeouts.read,
                write=self.timeouts.read,
                pool=self.timeouts.connect,
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self.sender = RetryingSender(
            self.transport,
            peer,
            timeouts=self.timeouts,
            retry=self.retry,
            limits=self.limits,
            stats=stats,
            on_answer=on_answer,
            payload_of=error_payload,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )

    @property
    def stats(self) -> RequestStats:
        return self.sender.stats

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r}, peer={self.peer!r})"

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ requests
    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
        classify: ClassifyHook | None = None,
    ) -> Answer:
        """One logical call (retried per the rules); the 2xx :class:`Answer`.

        ``path`` is joined to ``base_url``. ``json`` is encoded by :func:`encode_json`.
        ``idempotent`` overrides the method's default (see ``idempotent_methods``): say
        ``True`` for a POST the peer deduplicates, so it may be repeated after doubt.
        ``authenticated=False`` sends no credentials (a login); ``classify`` replaces the
        client's error table for this call.
        """
        method = method.upper()
        repeatable = self.repeatable(method, idempotent)
        body = content if json is None else encode_json(json)
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            request = self.client.build_request(
                method,
                self.base_url + path.lstrip("/"),
                params=_query(params),
                content=body,
                headers=sent,
            )
        except httpx.InvalidURL as error:
            raise ConfigurationError(
                f"bad {self.peer} URL for {method} {path}", method=method, path=path
            ) from error
        answer = self._through_auth(
            self.auth if authenticated else _NO_AUTH, request, path, repeatable
        )
        if answer.status_code >= 300:
            raise (classify or self._classify)(
                answer,
                peer=self.peer,
                method=method,
                path=path,
                repeatable=repeatable,
                payload=self._error_payload(answer),
            )
        return answer

    def _through_auth(
        self, auth: Auth, request: httpx.Request, path: str, repeatable: bool
    ) -> Answer:
        """Drive ``auth``'s flow: each request it yields is sent under the retry rules and its
        final answer handed back, until the flow ends; the last answer is the call's."""
        started = self.sender.clock()
        flow = auth.auth_flow(request)
        try:
            request = next(flow)
            while True:
                answer = self.sender.send(request, path, repeatable=repeatable, started=started)
                try:
                    request = flow.send(answer)
                except StopIteration:
                    return answer
        finally:
            flow.close()

    def repeatable(self, method: str, idempotent: bool | None = None) -> bool:
        """Whether a call may be repeated after doubt: ``idempotent`` if given, else whether
        ``method`` is one of ``idempotent_methods``."""
        return method.upper() in self.idempotent_methods if idempotent is None else idempotent

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`send`, then the decoded JSON body (``None`` for an empty one)."""
        answer = self.send(method, path, **kwargs)
        repeatable = self.repeatable(method, kwargs.get("idempotent"))
        return self.decode(answer, method.upper(), path, repeatable=repeatable)

    def decode(self, answer: Answer, method: str, path: str, *, repeatable: bool) -> Any:
        """The JSON of a 2xx answer; :class:`UnexpectedAnswer` (or, for a write that may
        have been applied, :class:`AmbiguousWriteError`) when it is not JSON."""
        if answer.status_code == 204 or not answer.content:
            return None
        try:
            return answer.json()
        except ValueError as error:
            kind = answer.headers.get("Content-Type", "no content type").split(";")[0]
            message = (
                f"{self.peer} {method} {path}: answered {answer.status_code} with a body that "
                f"is not JSON ({kind})"
            )
            info: dict[str, Any] = {
                "status_code": answer.status_code,
                "method": method,
                "path": path,
            }
            if not repeatable:
                raise AmbiguousWriteError(
                    message + "; the write may have been applied, look it up", **info
                ) from error
            raise UnexpectedAnswer(message, peer=self.peer, **info) from error

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request("GET", path, params=params, **kwargs)

    def get_object(
        self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """GET a JSON object; anything else is :class:`UnexpectedAnswer`."""
        body = self.request("GET", path, params=params, **kwargs)
        return expect_object(body, peer=self.peer, method="GET", path=path)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def put_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PUT", path, json=body, **kwargs)

    def patch_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    # ------------------------------------------------------------------ paging
    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        style: Literal["offset", "cursor", "page"] = "offset",
        limit: int = 100,
        rows: str = "items",
        next_key: str | None = None,
        count_key: str | None = "count",
        token_param: str | None = None,
        limit_param: str = "limit",
        identity: Callable[[Any], Any] | None = None,
        max_rows: int | None = None,
        headers: Mapping[str, str] | None = None,
        rows_optional: bool = False,
        on_envelope: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[Page]:
        """The pages of one list, under the rules of :mod:`~channel_app_template.transport._paging`.

        ``style`` says how the peer pages: ``offset`` (``offset`` and ``next_offset``),
        ``cursor`` (``cursor`` and ``next_cursor``) or ``page`` (``page`` numbers from 1;
        ``next_key`` is then only read as "there is more"). The default keys follow the
        style; override ``next_key``/``token_param`` for other names. ``identity(row)``
        gives a row's id to spot a page served twice. ``rows_optional`` reads a missing
        ``rows`` key as an empty page; ``on_envelope`` sees every decoded page, empty ones
        too (for the fields around the rows).
        """
        token_param = token_param or {"offset": "offset", "cursor": "cursor", "page": "page"}[style]
        next_key = (
            next_key or {"offset": "next_offset", "cursor": "next_cursor", "page": "next"}[style]
        )
        query = dict(params or {})
        query[limit_param] = limit

        def fetch(token: PageToken | None) -> Page:
            if token is not None:
                query[token_param] = token
            body = expect_object(
                self.request("GET", path, params=query, headers=headers),
                peer=self.peer,
                method="GET",
                path=path,
            )
            if on_envelope is not None:
                on_envelope(body)
            if rows_optional and body.get(rows) is None:
                return Page([], None, None, body)
            found = expect_list(body, rows, peer=self.peer, method="GET", path=path)
            following: Any = body.get(next_key)
            if style == "page":
                following = (token + 1) if following and isinstance(token, int) else None
            count = body.get(count_key) if count_key else None
            if isinstance(count, bool) or not isinstance(count, int):
                count = None
            return Page(found, following, count, body)

        return walk_pages(
            fetch,
            peer=self.peer,
            path=path,
            limit=limit,
            start=1 if style == "page" else (0 if style == "offset" else None),
            ordered=style != "cursor",
            identity=identity,
            max_pages=self.limits.max_pages,
            max_rows=max_rows,
        )

    def iter_rows(
        self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Every row of :meth:`iter_pages`, one page in memory at a time."""
        for page in self.iter_pages(path, params, **kwargs):
            yield from page.rows


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, Any]] | None:
    """Query pairs; lists become repeated parameters, booleans ``true``/``false``."""
    if not params:
        return None
    pairs: list[tuple[str, Any]] = []
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((name, str(item)))
    return pairs
