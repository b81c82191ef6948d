"""Order events across overlapping pages: one target's events apply in the order they came,
whatever page they are on, while other targets go on (``OrderEvents._in_order_per_target``)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from channel_app_template.core.inbound.order_events import OrderEvents

Event = tuple[str, int]  # (target, number in the stream)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(8) as executor:
        yield executor


def events_on(pool: ThreadPoolExecutor) -> OrderEvents:
    port: Any = SimpleNamespace(channel_id=1, parallel=True, executor=lambda: pool)
    return OrderEvents(port, channel=None, ledger=None)  # type: ignore[arg-type]


def test_a_later_page_goes_on_while_an_earlier_one_waits(pool: ThreadPoolExecutor) -> None:
    events = events_on(pool)
    release = threading.Event()
    finished: list[str] = []

    def apply(event: Event) -> tuple[str, bool]:
        if event == ("slow", 0):
            release.wait(5)
        finished.append(f"{event[0]}{event[1]}")
        return f"{event[0]}{event[1]}", True

    first = events._in_order_per_target([("slow", 0)], lambda e: e[0], apply)
    second = events._in_order_per_target([("slow", 1), ("other", 2)], lambda e: e[0], apply)
    deadline = time.monotonic() + 5
    while "other2" not in finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert finished == ["other2"]  # page 2's other target did not wait for page 1
    release.set()
    assert first() == {"slow0": True}
    assert second() == {"slow1": True, "other2": True}
    assert finished == ["other2", "slow0", "slow1"]  # the slow target kept its order


@settings(max_examples=25, deadline=None)
@given(
    targets=st.lists(st.sampled_from("abcd"), min_size=1, max_size=30),
    page_size=st.integers(min_value=1, max_value=7),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_each_targets_events_apply_in_stream_order_across_pages(
    targets: list[str], page_size: int, seed: int
) -> None:
    stream = [(target, n) for n, target in enumerate(targets)]
    delays = random.Random(seed)
    pauses = {event: delays.random() / 500 for event in stream}
    applied: list[Event] = []
    lock = threading.Lock()

    def apply(event: Event) -> tuple[str, bool]:
        time.sleep(pauses[event])
        with lock:
            applied.append(event)
        return str(event[1]), True

    with ThreadPoolExecutor(8) as executor:
        events = events_on(executor)
        pages = [stream[i : i + page_size] for i in range(0, len(stream), page_size)]
        pending = [events._in_order_per_target(page, lambda e: e[0], apply) for page in pages]
        outcomes = [waiter() for waiter in pending]
    assert sorted(applied) == sorted(stream)
    for target in set(targets):
        mine = [event for event in applied if event[0] == target]
        assert mine == [event for event in stream if event[0] == target]
    assert [sorted(int(k) for k in o) for o in outcomes] == [[e[1] for e in p] for p in pages]
