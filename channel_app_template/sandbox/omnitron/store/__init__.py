"""SQLite persistence for the simulator: schema from ``resources.SPECS`` plus generic CRUD.

``Store`` is the one object the routes hold; its roles live in private modules: rows and
transactions (``_rows``), the schema and bootstrap rows (``_schema``), value encoding
(``_codec``), body validation (``_validation``), login tokens (``_tokens``) and planted bad
rows (``_raw``).
"""

from __future__ import annotations

from ._raw import RawRows
from ._schema import (
    DEFAULT_CATALOG_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    MAX_INT,
    columns,
)
from ._tokens import Tokens
from ._validation import Validation

__all__ = [
    "DEFAULT_CATALOG_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "MAX_INT",
    "Store",
    "columns",
]


class Store(Validation, Tokens, RawRows):
    """All simulator state. Methods raise ``ApiError`` for anything a client did wrong."""
