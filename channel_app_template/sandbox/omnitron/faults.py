"""Fault injection now lives in :mod:`channel_app_template.sandbox.common.faults` (shared with
the reference marketplace); this module keeps the old import path working."""

from channel_app_template.sandbox.common.faults import (
    ACTIONS,
    ERROR_BODIES,
    SHAPING,
    STACKING,
    TERMINAL,
    WRITE_METHODS,
    ConnectionDropped,
    FaultConfig,
    FaultMiddleware,
    FaultRule,
    parse_rule_flag,
)

__all__ = [
    "ACTIONS",
    "ERROR_BODIES",
    "SHAPING",
    "STACKING",
    "TERMINAL",
    "WRITE_METHODS",
    "ConnectionDropped",
    "FaultConfig",
    "FaultMiddleware",
    "FaultRule",
    "parse_rule_flag",
]
