"""PagePipeline: closing parts in page order on their own thread, follow-ups on the
caller's thread, never more items in flight than allowed, every page closed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from channel_app_template.core.inbound.pipeline import FollowUp, PagePipeline


class Boom(Exception):
    pass


def page(log: list[str], name: str, *, fail: bool = False) -> Callable[[], FollowUp | None]:
    """A closing part that logs where it ran and returns a follow-up that logs too."""

    def close() -> FollowUp | None:
        log.append(f"close {name} on {threading.current_thread().name}")
        if fail:
            raise Boom(name)
        return lambda: log.append(f"follow {name} on {threading.current_thread().name}")

    return close


@pytest.mark.parametrize("overlap", [True, False])
def test_pages_close_in_order_off_thread_and_follow_up_on_the_callers_thread(
    overlap: bool,
) -> None:
    log: list[str] = []
    pipeline = PagePipeline(4, overlap=overlap)
    for name in "abc":
        pipeline.admit(2)
        pipeline.close(2, page(log, name))
    pipeline.drain()
    me = threading.current_thread().name
    closes = [entry for entry in log if entry.startswith("close")]
    follows = [entry for entry in log if entry.startswith("follow")]
    assert [c.split()[1] for c in closes] == ["a", "b", "c"]
    assert all(c.endswith(me) != overlap for c in closes)
    assert follows == [f"follow {name} on {me}" for name in "abc"]
    assert pipeline.in_flight == 0


def test_admitting_past_the_limit_first_follows_up_the_oldest_pages() -> None:
    log: list[str] = []
    gate = threading.Event()
    pipeline = PagePipeline(4, overlap=True)

    def held() -> FollowUp | None:
        gate.wait()
        return lambda: log.append("follow a")

    pipeline.admit(2)
    pipeline.close(2, held)
    pipeline.admit(2)
    pipeline.close(2, lambda: lambda: log.append("follow b"))
    assert pipeline.in_flight == 4 and log == []  # a is still closing: b waits behind it
    gate.set()
    pipeline.admit(3)  # room for 3 needs both a and b out of flight
    assert log == ["follow a", "follow b"] and pipeline.in_flight == 3
    pipeline.close(3, lambda: None)
    pipeline.drain()
    assert pipeline.in_flight == 0


def test_a_failed_page_is_raised_after_the_later_pages_are_closed_and_followed_up() -> None:
    log: list[str] = []
    gate = threading.Event()
    pipeline = PagePipeline(10, overlap=True)
    failing = page(log, "a", fail=True)

    def held() -> FollowUp | None:
        gate.wait()
        return failing()

    pipeline.admit(1)
    pipeline.close(1, held)
    pipeline.admit(1)  # a is still closing: nothing to raise yet
    pipeline.close(1, page(log, "b"))
    gate.set()
    with pytest.raises(Boom, match="a"):
        pipeline.drain()
    assert [entry.split()[:2] for entry in log] == [["close", "a"], ["close", "b"], ["follow", "b"]]
    assert pipeline.in_flight == 0


def test_admission_raises_what_a_closed_page_raised() -> None:
    pipeline = PagePipeline(2, overlap=False)
    pipeline.admit(1)
    with pytest.raises(Boom):
        pipeline.close(1, page([], "a", fail=True))
    assert pipeline.in_flight == 0


def test_a_page_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="exceed"):
        PagePipeline(3, overlap=True).admit(4)
    with pytest.raises(ValueError, match="at least one"):
        PagePipeline(0, overlap=True)
