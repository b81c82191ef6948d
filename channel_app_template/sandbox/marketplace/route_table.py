"""The marketplace's ``/api/v1`` route table entries: shared ``Route`` entries whose other
methods answer the marketplace's own error envelope (its ``/_sandbox/`` routes keep DRF's 405,
as the Omnitron simulator's do)."""

from __future__ import annotations

from channel_app_template.sandbox.common.route_table import Route
from channel_app_template.sandbox.common.routing import Handler

from .errors import not_allowed

__all__ = ["API", "api_route"]

API = "/api/v1"


def api_route(path: str, **handlers: Handler) -> Route:
    """``api_route(path, GET=h)``: a 405 for another method is ``method_not_allowed``."""
    return Route(path, handlers, not_allowed)
