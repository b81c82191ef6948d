"""Single-flight locks against a real (private) Redis."""

from __future__ import annotations

import time

import pytest
import redis

from channel_app_template.core.locks import KEY_PREFIX, SingleFlight

pytestmark = pytest.mark.integration


def test_second_holder_is_refused_until_release(cache: redis.Redis) -> None:
    locks = SingleFlight(cache, ttl=5)
    with locks.hold("flow-a") as first:
        assert first
        with locks.hold("flow-a") as second:
            assert not second
        with locks.hold("flow-b") as other:
            assert other
    with locks.hold("flow-a") as again:
        assert again


def test_lock_is_kept_alive_while_held_and_expires_if_the_holder_dies(cache: redis.Redis) -> None:
    locks = SingleFlight(cache, ttl=1)
    with locks.hold("long") as held:
        assert held
        time.sleep(2.5)  # longer than the TTL: the keeper extended it
        assert locks.is_held("long")
    assert not locks.is_held("long")
    cache.set(KEY_PREFIX + "crashed", "someone-else", px=500)  # a holder killed with -9
    time.sleep(0.7)
    with locks.hold("crashed") as taken:
        assert taken


def test_only_the_holder_releases(cache: redis.Redis) -> None:
    locks = SingleFlight(cache, ttl=5)
    with locks.hold("mine") as held:
        assert held
        cache.set(KEY_PREFIX + "mine", "stolen", px=5000)
    assert cache.get(KEY_PREFIX + "mine") == b"stolen"
