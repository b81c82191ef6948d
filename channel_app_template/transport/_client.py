"""The client channels and Omnitron use: JSON over HTTP with one peer, under the transport
rules (:mod:`channel_app_template.transport`).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

import httpx

from channel_app_template.errors import (
    AmbiguousWriteError,
    ConfigurationError,
)
from channel_app_template.transport._auth import Auth
from channel_app_template.transport._deadline import build_transport, env_proxy
from channel_app_template.transport._decode import (
    Answer,
    default_classify,
    encode_json,
    error_payload,
    expect_list,
    expect_object,
)
from channel_app_template.transport._errors import UnexpectedAnswer
from channel_app_template.transport._limits import Limits, Timeouts
from channel_app_template.transport._paging import Page, PageToken, walk_pages
from channel_app_template.transport._retry import IDEMPOTENT_METHODS, RetryPolicy
from channel_app_template.transport._sender import Prepared, RequestStats, RetryingSender

__all__ = [
    "ClassifyHook",
    "HttpClient",
]

ClassifyHook = Callable[..., Exception]


class HttpClient:
    """JSON over HTTP with one peer, under the transport rules of this module.

    ``base_url`` is the API root (paths are joined to it); ``peer`` is the name errors and
    logs use ("Omnitron", "Bazaar marketplace"). ``auth`` adds credentials to every attempt;
    ``classify(answer, peer=, method=, path=, repeatable=, payload=)`` maps a final error
    answer to an exception (default: :func:`default_classify`); ``error_payload`` decodes
    an error body for it; ``on_answer`` sees every answer (e.g. to read rate-limit
    headers). A proxy named by the environment (``HTTPS_PROXY``, ``NO_PROXY``...) is used
    as ``requests`` would. ``transport`` replaces the network (``httpx.MockTransport`` in tests; the
    deadline is then enforced only between body chunks).

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
        classify: ClassifyHook = default_classify,
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
        self.auth = auth or Auth()
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.idempotent_methods = frozenset(m.upper() for m in idempotent_methods)
        self._classify = classify
        self._error_payload = error_payload
        self._on_answer = on_answer
        self.client = httpx.Client(
            headers={"Accept": "application/json", **(headers or {})},
            transport=transport or build_transport(self.limits.pool_size, env_proxy(self.base_url)),
            follow_redirects=False,
            trust_env=False,
        )
        self.sender = RetryingSender(
            self.client,
            peer,
            timeouts=self.timeouts,
            retry=self.retry,
            limits=self.limits,
            stats=stats,
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

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        """
        method = method.upper()
        repeatable = method in self.idempotent_methods if idempotent is None else idempotent
        body = content if json is None else encode_json(json)
        state: dict[str, Any] = {}
        classify_hook = classify or self._classify

        def prepare() -> Prepared:
            sent = dict(headers or {})
            if body is not None:
                sent.setdefault("Content-Type", "application/json")
            if authenticated:
                self.auth.apply(sent, state)
            return {"params": _query(params), "content": body, "headers": sent}

        def intercept(answer: Answer) -> bool:
            if self._on_answer is not None:
                self._on_answer(answer)
            if answer.status_code == 401 and authenticated:
                return self.auth.refused(answer, state)
            return False

        def classify_final(answer: Answer) -> Exception:
            return classify_hook(
                answer,
                peer=self.peer,
                method=method,
                path=path,
                repeatable=repeatable,
                payload=self._error_payload(answer),
            )

        answer = self.sender.send(
            method,
            self.base_url + path.lstrip("/"),
            path,
            repeatable=repeatable,
            prepare=prepare,
            classify=classify_final,
            intercept=intercept,
            payload_of=self._error_payload,
        )
        if self._on_answer is not None:
            self._on_answer(answer)
        return answer

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`send`, then the decoded JSON body (``None`` for an empty one)."""
        answer = self.send(method, path, **kwargs)
        repeatable = kwargs.get("idempotent")
        if repeatable is None:
            repeatable = method.upper() in self.idempotent_methods
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


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query pairs; lists become repeated parameters, booleans ``true``/``false``."""
    if not params:
        return None
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((name, str(item)))
    return pairs
