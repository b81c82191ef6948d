"""The Redis commit gate and handed-over flow leases, against a real (private) Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from channel_app_template.core.locks import KEY_PREFIX, SingleFlight
from channel_app_template.core.run.commit_gate import RedisCommitGate
from channel_app_template.errors import RetryLater

pytestmark = pytest.mark.integration


def test_the_gate_lets_one_holder_in_per_content_type(cache: redis.Redis) -> None:
    gate = RedisCommitGate(cache, "one", ttl=5, wait=10)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()

    def holder() -> None:
        for _ in range(5):
            with gate("product"):
                with lock:
                    inside.append(1)
                    most[0] = max(most[0], len(inside))
                time.sleep(0.01)
                with lock:
                    inside.pop()

    threads = [threading.Thread(target=holder) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    with gate("product"), gate("productprice"):  # another content type: its own gate
        pass


def test_a_busy_gate_is_given_up_after_its_wait(cache: redis.Redis) -> None:
    gate = RedisCommitGate(cache, "busy", ttl=5, wait=0.2)
    with gate("product"), pytest.raises(RetryLater), gate("product"):
        pass


def test_the_holder_after_a_dead_one_repairs_first(cache: redis.Redis) -> None:
    repaired: list[str] = []
    gate = RedisCommitGate(cache, "dead", ttl=5, wait=5, on_takeover=repaired.append)
    with gate("product"):
        pass
    assert repaired == []  # left cleanly: nothing to repair
    # A holder killed inside: its lease expired, its mark stayed.
    cache.set(f"{KEY_PREFIX}{gate.name('product')}:held", "4242:token")
    with gate("product"):
        assert repaired == ["product"]
    with gate("product"):
        pass
    assert repaired == ["product"]


def test_a_handed_over_lease_is_kept_alive_and_refused_once_gone(cache: redis.Redis) -> None:
    locks = SingleFlight(cache, ttl=1)
    with locks.lease("flow") as token:
        assert token is not None
        with locks.lease("flow") as second:
            assert second is None
        with locks.keep("flow", "someone else") as alive:
            assert not alive
        with locks.keep("flow", token) as alive:
            assert alive
    with locks.keep("flow", token) as alive:  # its owner freed it
        assert not alive
    # A keeper outlives the owner's TTL: the lease stays while the keeper works.
    cache.set(KEY_PREFIX + "handed", "tok", px=1000)
    with locks.keep("handed", "tok") as alive:
        assert alive
        time.sleep(1.5)
        assert cache.get(KEY_PREFIX + "handed") == b"tok"
