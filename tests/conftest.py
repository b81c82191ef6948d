"""Shared fixtures: the real stack is started once per session and only when asked for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.processes import redis_server
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with running_stack() as started:
        yield started


@pytest.fixture(scope="module")
def cache() -> Iterator[redis.Redis]:
    """A client of a ``redis-server`` of this test module's own, on a free port."""
    with redis_server() as server:
        client = redis.Redis(port=server.port)
        yield client
        client.close()
