"""Which paths the proxy serves, which it refuses, and which of them only read.

Checked before anything reaches Flower: a path is judged on its decoded form, so an
encoded dot segment or backslash cannot slip past as bytes Flower decodes later.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

PREFIX = b"/flower"
# Flower's task API is also served at the root, where the incumbent app's Flower (no
# prefix) had it and where its trigger scripts still call it: /api/x is /flower/api/x.
ALIAS = b"/api/"
NOT_VISIBLE_ASCII = re.compile(rb"[^\x21-\x7e]")
FORBIDDEN_DECODED = re.compile(rb"[\\\x00-\x1f\x7f]")
DOT_SEGMENT = re.compile(rb"/\.\.?(?:/|$)")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read-only POSTs: the dashboard's task table asks for its rows with a POST.
READ_ONLY_POSTS = frozenset({b"/flower/tasks/datatable"})


def path_problem(raw_path: bytes, query: bytes) -> str | None:
    """Why this path may not be forwarded, or ``None``; checked on the decoded form."""
    if not raw_path.startswith(PREFIX + b"/"):
        return "Only /flower/ paths are proxied."
    if NOT_VISIBLE_ASCII.search(raw_path) or NOT_VISIBLE_ASCII.search(query):
        return "Path and query must be ASCII without spaces or control characters."
    decoded = unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path
    if FORBIDDEN_DECODED.search(decoded):
        return "Path contains a backslash or a control character."
    if DOT_SEGMENT.search(decoded):
        return "Path contains a dot segment."
    return None


def is_read(method: str, raw_path: bytes) -> bool:
    """Whether a read-only user may send this request."""
    return method in SAFE_METHODS or (method == "POST" and raw_path in READ_ONLY_POSTS)
