"""Fault injection now lives in :mod:`channel_app_template.sandbox.common.faults` (shared with
the reference marketplace); this module keeps the old import path working, with the same
names (its ``__all__`` is the shared module's, so the two lists cannot drift apart)."""

from channel_app_template.sandbox.common import faults as _faults
from channel_app_template.sandbox.common.faults import *  # noqa: F403

__all__ = list(_faults.__all__)
