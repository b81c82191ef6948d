"""The commit gate: Omnitron allows one committed batch per content type.

The engine enters the gate right before it commits a batch and leaves it when that batch
has left COMMIT (submitted to the channel, settled or aborted). The default is a lock per
content model in this process; workers in several processes pass a gate that holds a
shared lock instead.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["CommitGate", "local_gate"]

CommitGate = Callable[[str], contextlib.AbstractContextManager[None]]

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextlib.contextmanager
def local_gate(model: str) -> Iterator[None]:
    """Hold this process's lock for ``model`` while a batch of it is committed."""
    with _guard:
        lock = _locks.setdefault(model, threading.Lock())
    with lock:
        yield
