"""A bound on the memory glibc keeps for a worker's threads.

glibc's ``malloc`` gives threads their own arenas (up to eight per core) and keeps what
they freed. A worker runs a pool of Omnitron threads (``OMNITRON_CONCURRENCY`` + 4) that
read and write bodies of hundreds of kilobytes, so its RSS climbed with the catalog's size
though the objects it holds did not: 30,000 products peaked at 170 MB with the default
arenas and 145 MB with two, flat after the first batches (``bench/bench_catalog.py``,
this machine). ``MALLOC_ARENA_MAX`` set in the environment wins; musl (the Alpine image)
has no arenas and ignores this.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

__all__ = ["MALLOC_ARENAS", "cap_malloc_arenas"]

MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter number

logger = logging.getLogger(__name__)


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's arenas at ``arenas`` unless ``MALLOC_ARENA_MAX`` says otherwise; True
    when glibc took the cap."""
    if os.environ.get("MALLOC_ARENA_MAX") or ctypes.util.find_library("c") is None:
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        if not hasattr(libc, "gnu_get_libc_version"):
            return False  # not glibc: musl's mallopt does nothing useful here
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
