"""Deprecated path of the Omnitron port, kept because ``OMNITRON_MODULE`` values and
subclasses name it: the port is :mod:`channel_app_template.akinon.port` now."""

from __future__ import annotations

from channel_app_template.akinon.port import (
    OPEN_REMOTE,
    UNREADABLE_MEMORY,
    OmnitronIntegration,
    ReportOnce,
    Tracked,
)

__all__ = ["OPEN_REMOTE", "UNREADABLE_MEMORY", "OmnitronIntegration", "ReportOnce", "Tracked"]
