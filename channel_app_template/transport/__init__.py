"""One HTTP transport for every peer (Omnitron, the reference marketplace, a scaffolded
channel): the rules that decide whether a failure may be repeated, and how much a peer may
send, live in one place.

* A connect timeout, a per-read timeout and a **deadline per attempt** (connect, headers and
  body together), enforced at every socket read: a peer trickling one byte a second is cut
  off at the deadline, not kept alive by each byte.
* The body is read streamed and **capped** (``HTTP_MAX_RESPONSE_BYTES``): a huge answer fails
  with :class:`ResponseTooLarge` after at most the cap has been read.
* Retries, backoff, ``Retry-After`` and ambiguous writes follow the rules written once in
  :mod:`channel_app_template.transport._retry`.
* A 2xx answer that is not JSON, or not the shape the caller expects, raises
  :class:`UnexpectedAnswer` naming the peer and path, never a raw ``TypeError``.
* Credentials are small objects (:class:`Auth`), applied per attempt and asked what to do
  after a 401; secrets never reach a message, and neither does the query string.

Channels use :class:`HttpClient`; Omnitron's client is built on the same class. The
implementation is split by role into private modules: ``_client`` (the client), ``_auth``
(credentials), ``_retry`` (the retry rules and policy), ``_sender`` (the retry loop),
``_deadline`` (deadline and network backend), ``_decode`` and ``_limits`` (answers and
bounds), ``_paging`` (paginated lists).

Why httpx (decided once, for every peer but the proxy's aiohttp). Client CPU per request
against one local keep-alive server (``bench/bench_http_library.py``, 2,000 GETs of a 2 KB
JSON page, 2 shared cores): ``requests`` 690-890 us (600-640 us with ``trust_env=False``),
``httpx`` 340-560 us, :class:`HttpClient` on it (cap, deadline, retry rules) about 5% above
bare httpx; through the reference marketplace client, 800-990 us a call against 990-1,430 us
on the requests-based sender it replaces. The catalog engine makes about one request per
product, so this is paid per product. httpx also has the Auth/transport split the redesign
takes as its model, and httpcore's network-backend interface is where the per-attempt
deadline is enforced on every read and write (``_deadline.py``). The retry loop
stays our own code: it needs an injectable clock and sleep for deterministic tests, a 401
repeat that is not counted as a retry, and a ``Retry-After`` ceiling that raises; tenacity
and stamina would each need all three bolted on around them.
"""

from __future__ import annotations

from channel_app_template.transport._auth import (
    ApiKeyAuth,
    Auth,
    BearerAuth,
)
from channel_app_template.transport._client import (
    ClassifyHook,
    HttpClient,
)
from channel_app_template.transport._deadline import (
    env_proxy,
)
from channel_app_template.transport._decode import (
    Answer,
    default_classify,
    encode_json,
    error_payload,
    expect_list,
    expect_object,
)
from channel_app_template.transport._errors import (
    DeadlineExceeded,
    ResponseTooLarge,
    UnexpectedAnswer,
)
from channel_app_template.transport._limits import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_DEADLINE,
    MAX_RESPONSE_BYTES_BOUND,
    Limits,
    Timeouts,
)
from channel_app_template.transport._paging import (
    DEFAULT_MAX_PAGES,
    MAX_PAGES_BOUND,
    Page,
    PageToken,
    PagingError,
    count_slack,
    walk_pages,
)
from channel_app_template.transport._retry import (
    IDEMPOTENT_METHODS,
    RETRIABLE_STATUSES,
    RetryPolicy,
    nothing_was_sent,
    parse_retry_after,
)
from channel_app_template.transport._sender import (
    RequestStats,
    RetryingSender,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "IDEMPOTENT_METHODS",
    "MAX_DEADLINE",
    "MAX_PAGES_BOUND",
    "MAX_RESPONSE_BYTES_BOUND",
    "RETRIABLE_STATUSES",
    "Answer",
    "ApiKeyAuth",
    "Auth",
    "BearerAuth",
    "ClassifyHook",
    "DeadlineExceeded",
    "HttpClient",
    "Limits",
    "Page",
    "PageToken",
    "PagingError",
    "RequestStats",
    "ResponseTooLarge",
    "RetryPolicy",
    "RetryingSender",
    "Timeouts",
    "UnexpectedAnswer",
    "count_slack",
    "default_classify",
    "encode_json",
    "env_proxy",
    "error_payload",
    "expect_list",
    "expect_object",
    "nothing_was_sent",
    "parse_retry_after",
    "walk_pages",
]
