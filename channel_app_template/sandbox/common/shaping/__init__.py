"""Fault rules that rewrite a request or reshape an answer: peers that page forever, ignore
``page``, answer with the wrong shape, huge bodies or odd values.

Each kind is a pure function of the app's JSON answer (and the request), applied by
:class:`~channel_app_template.sandbox.common.faults.FaultMiddleware` to 2xx JSON answers
only; errors pass unchanged. Paging pointers are recognised in both simulators' shapes:
Omnitron's DRF envelope (``count``, ``next`` URL, ``results``), and the marketplace's
``items`` with ``next_cursor`` or ``next_offset``. "Rows" are ``results``, ``items`` or a bare
JSON list.

====================  =====================================================================
kind                  parameters (defaults) and effect
====================  =====================================================================
``ignore_page``       ``params`` (``["page", "offset", "cursor"]``): these query parameters
                      are removed before the app sees the request, so every page is page 1
                      (and its pointer says there is more, as on page 1)
``repeat_next``       ``value`` (none): the pointer never moves: ``next`` is the request's own
                      URL, ``next_cursor`` the cursor sent (else the answer's, else ``"0"``),
                      ``next_offset`` the offset sent (else 0); ``value`` replaces any of them
``empty_page``        no rows, and a pointer that still moves forward (``page`` + 1, cursor
                      + 1, offset + limit); ``page`` is ignored so every page answers 200
``wrong_shape``       ``shape`` (``list``): ``list`` -> ``[answer]`` (a list where an object is
                      expected), ``object`` -> ``{"unexpected": answer}``, ``string``,
                      ``null``, ``number`` (42), ``rows_as_lists`` (each row a list of values)
``drop_field``        ``field`` (``pk``), ``row`` (all), ``match`` (none): the field is removed
                      from the chosen rows (or from an object answer)
``set_field``         ``field``, ``value`` (both required), ``row``, ``match``: the field is set
                      to ``value`` (any JSON, e.g. ``modified_date: "2099-01-01T00:00:00Z"``)
``huge_body``         ``size_bytes`` (10 MiB, max 1 GiB), ``chunked`` (false): the rows are
                      followed by made-up rows (copies of the first with ``pk``/``id``/
                      ``number``/``sku`` counted on) until the body has that size; an object
                      answer gets a ``_padding`` string; streamed, with ``Content-Length``
                      unless ``chunked``
``extra_rows``        ``rows`` (10,000, max 10,000,000): made-up rows until the answer has that
                      many, whatever ``limit`` asked for; streamed (chunked)
====================  =====================================================================

``row`` is an index into the rows; ``match`` an object the row must contain (``{"pk": 5}``).

By role: the kinds and their parameters (``_params``), the request as sent and as the app sees
it (``_request``), the kinds that edit the answer (``_edits``), the streaming kinds
(``_stream``, with ``_made_up_rows``), and the middleware's shaping step (``_respond``).
"""

from __future__ import annotations

from ._edits import apply, rows_of
from ._params import KINDS, PARAMS, STREAMS, check, int_in
from ._request import RequestContext, rewrite_request
from ._respond import respond
from ._stream import stream

__all__ = [
    "KINDS",
    "PARAMS",
    "STREAMS",
    "RequestContext",
    "apply",
    "check",
    "int_in",
    "respond",
    "rewrite_request",
    "rows_of",
    "stream",
]
