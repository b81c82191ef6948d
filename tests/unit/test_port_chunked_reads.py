"""A batch's bulk look-ups read their id chunks side by side, in order, each id once; from a
pool thread they run one after another (a job must not wait on the pool it occupies)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings, strategies as st

from channel_app_template.akinon.api import ID_CHUNK
from channel_app_template.akinon.port._base import PortBase


def client() -> Any:
    """A stand-in for an Omnitron client: the port only hands it to ``read``."""
    return SimpleNamespace(on_unreadable=None, close=lambda: None)


def port(concurrency: int = 8) -> PortBase:
    return PortBase(client(), client_factory=client, concurrency=concurrency)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5000), max_size=3 * ID_CHUNK + 7))
def test_chunks_come_back_in_order_each_id_once(ids: list[int]) -> None:
    reader = port()
    try:
        seen = reader._per_chunk(lambda _client, part: [n * 10 for n in part], ids)
    finally:
        reader.close()
    assert seen == [n * 10 for n in dict.fromkeys(ids)]


def test_chunks_are_read_side_by_side_each_on_its_own_client() -> None:
    reader = port()
    active, most, clients, lock = [0], [0], set(), threading.Lock()

    def read(client: Any, part: list[int]) -> list[int]:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            clients.add(id(client))
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return part

    try:
        assert len(reader._per_chunk(read, range(4 * ID_CHUNK))) == 4 * ID_CHUNK
    finally:
        reader.close()
    assert most[0] > 1 and len(clients) > 1


def test_from_a_pool_thread_chunks_run_one_after_another() -> None:
    reader = port()
    threads: list[str] = []

    def read(_client: Any, part: list[int]) -> list[int]:
        threads.append(threading.current_thread().name)
        return part

    def job() -> list[int]:
        return reader._per_chunk(read, range(3 * ID_CHUNK))

    try:
        assert len(reader.executor().submit(job).result(timeout=10)) == 3 * ID_CHUNK
    finally:
        reader.close()
    assert len(threads) == 3 and len(set(threads)) == 1  # all on the job's own thread


def test_a_port_without_pool_clients_reads_on_the_callers_thread() -> None:
    reader = PortBase(client())
    names: set[str] = set()

    def read(_client: Any, part: list[int]) -> list[int]:
        names.add(threading.current_thread().name)
        return part

    assert len(reader._per_chunk(read, range(2 * ID_CHUNK))) == 2 * ID_CHUNK
    assert names == {threading.current_thread().name}
