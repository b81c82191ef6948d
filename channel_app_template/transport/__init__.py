"""One HTTP transport for every peer (Omnitron, the reference marketplace, a scaffolded
channel), on httpx, composed of small objects:

* :class:`HttpClient` (``_client``): JSON with one peer; composes the parts below.
* :class:`Auth` (``_auth``): credentials, as httpx's auth flows (:class:`ApiKeyAuth`,
  :class:`BearerAuth`; Omnitron's token login is one too).
* :class:`RetryPolicy` (``_retry``): **the rules** of what is repeated, how long it waits
  and when it stops, written once in that module's docstring; ``_sender`` is the loop that
  applies them.
* :class:`Timeouts` and :class:`Limits` (``_limits``): connect and read timeouts, the
  per-attempt deadline (enforced at every socket read, ``_deadline``), the byte cap of an
  answer, pages per list, connections.
* :class:`StatusErrors` (``_classify``): what a final error status becomes, one table per
  peer (:data:`DEFAULT_ERRORS` unless a client gives its own).
* ``_network``: the httpx transport: direct HTTP/1.1 connections (``_connections``: sockets
  kept alive, answers parsed by httptools) and, through the environment's proxy, httpcore's
  public connection pool (the deadline's network backend); the process's one TLS context.
* ``_decode`` (answers, JSON, shape checks raising :class:`UnexpectedAnswer`) and
  ``_paging`` (paginated lists that cannot loop).

Secrets never reach a message, and neither does the query string.

Why httpx (decided once, for every peer but the proxy's aiohttp). Client CPU per request
against one local keep-alive server (``bench/bench_http_library.py``, 2,000 GETs of a 2 KB
JSON page, 2 shared cores): ``requests`` 690-890 us (600-640 us with ``trust_env=False``),
``httpx`` 340-560 us, :class:`HttpClient` on it (cap, deadline, retry rules) about 5% above
bare httpx; through the reference marketplace client, 800-990 us a call against 990-1,430 us
on the requests-based sender it replaces. The catalog engine makes about one request per
product, so this is paid per product. httpx also has the Auth/transport split this package
takes as its model, and httpcore's network-backend interface is where the per-attempt
deadline is enforced on every read and write of a proxied request.

Why our own connections under httpx's transport contract (issue 13): on the same bench,
httpcore's pool and h11 cost 470-640 us per GET and a socket parsed by httptools 110-180 us;
``HttpClient.get_json`` went from 458-742 us to about 270 us, and the catalog engine's CPU
on the 10,000-product day from 21-22 s to 15-17 s.
"""

from __future__ import annotations

from channel_app_template.transport._auth import (
    ApiKeyAuth,
    Auth,
    AuthFlow,
    BearerAuth,
)
from channel_app_template.transport._classify import (
    DEFAULT_ERRORS,
    Rule,
    StatusErrors,
    default_classify,
    describe,
)
from channel_app_template.transport._client import (
    ClassifyHook,
    Closing,
    HttpClient,
)
from channel_app_template.transport._decode import (
    Answer,
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
from channel_app_template.transport._network import (
    NetworkTransport,
    env_proxy,
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
    "DEFAULT_ERRORS",
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
    "AuthFlow",
    "BearerAuth",
    "ClassifyHook",
    "Closing",
    "DeadlineExceeded",
    "HttpClient",
    "Limits",
    "NetworkTransport",
    "Page",
    "PageToken",
    "PagingError",
    "RequestStats",
    "ResponseTooLarge",
    "RetryPolicy",
    "RetryingSender",
    "Rule",
    "StatusErrors",
    "Timeouts",
    "UnexpectedAnswer",
    "count_slack",
    "default_classify",
    "describe",
    "encode_json",
    "env_proxy",
    "error_payload",
    "expect_list",
    "expect_object",
    "nothing_was_sent",
    "parse_retry_after",
    "walk_pages",
]
