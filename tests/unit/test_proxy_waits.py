"""Which requests make Flower wait, and the limits on them, without any server."""

from __future__ import annotations

import asyncio
import math

import pytest

from channel_app_template.api.waits import (
    BadWait,
    Busy,
    OnlineWorkers,
    WaitKind,
    WaitLimiter,
    WaitLimits,
    apply_answer,
    classify,
    inspected_worker,
    is_ready,
    poll_delays,
    query_values,
    requested_timeout,
    without_parameter,
)


@pytest.mark.parametrize(
    ("method", "path", "query", "kind"),
    [
        ("GET", b"/flower/api/task/result/abc", b"timeout=40", WaitKind.RESULT),
        ("GET", b"/flower/api/task/result/abc", b"time%6Fut=1e9", WaitKind.RESULT),
        ("GET", b"/flower/api/task/result/abc", b"", None),
        ("POST", b"/flower/api/task/apply/tests.add", b"", WaitKind.APPLY),
        ("POST", b"/flower/api/task/async-apply/tests.add", b"", None),
        ("POST", b"/flower/api/task/send-task/tests.add", b"", None),
        ("GET", b"/flower/api/workers", b"refresh=1", WaitKind.FLOWER),
        ("GET", b"/flower/api/workers", b"refresh=1&workername=w1%40h", WaitKind.FLOWER),
        ("GET", b"/flower/api/workers", b"status=1", None),
        ("GET", b"/flower/api/workers", b"", None),
        ("GET", b"/flower/worker/w1@h", b"", WaitKind.FLOWER),
        ("POST", b"/flower/api/worker/pool/grow/w1@h", b"", WaitKind.FLOWER),
        ("POST", b"/flower/api/worker/queue/add-consumer/w1@h", b"", WaitKind.FLOWER),
        ("POST", b"/flower/api/task/rate-limit/tests.add", b"", WaitKind.FLOWER),
        ("POST", b"/flower/api/task/timeout/tests.add", b"", WaitKind.FLOWER),
        ("POST", b"/flower/api/task/revoke/abc", b"", None),
        ("POST", b"/flower/api/worker/shutdown/w1@h", b"", None),
        ("GET", b"/flower/api/tasks", b"limit=10", None),
        ("POST", b"/flower/tasks/datatable", b"", None),
    ],
)
def test_classify(method: str, path: bytes, query: bytes, kind: WaitKind | None) -> None:
    assert classify(method, path, query) is kind


def test_query_values_decode_as_tornado_does() -> None:
    query = b"timeout=1&x=%2F&time%6Fut=+2e3+&timeout"
    assert query_values(query, "timeout") == ["1", " 2e3 ", ""]
    assert query_values(query, "x") == ["/"]


def test_without_parameter_keeps_the_rest_byte_for_byte() -> None:
    query = b"b=2&timeout=40&a=%20+y&time%6Fut=9&flag&z=%2F"
    assert without_parameter(query, "timeout") == b"b=2&a=%20+y&flag&z=%2F"
    assert without_parameter(b"timeout=1", "timeout") == b""


@pytest.mark.parametrize(
    "pieces",
    [
        [],
        ["timeout"],
        ["a=1", "timeout=5", "t=%2F"],
        ["timeout=5", "flag", "timeout", "x=+"],
        ["x=+", "a=1"],
    ],
)
def test_without_parameter_removes_exactly_the_parameter(pieces: list[str]) -> None:
    query = "&".join(pieces).encode()
    stripped = without_parameter(query, "timeout")
    assert query_values(stripped, "timeout") == []
    kept = [p for p in pieces if p.partition("=")[0] != "timeout"]
    assert stripped == "&".join(kept).encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("40", 40.0), (" 2.5 ", 2.5), ("1e9", 1e9), (3, 3.0), ("inf", math.inf)],
)
def test_requested_timeout(raw: object, expected: float | None) -> None:
    assert requested_timeout(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "nan", "", [1], {"a": 1}, True])
def test_requested_timeout_refuses_what_flower_refuses(raw: object) -> None:
    with pytest.raises(BadWait):
        requested_timeout(raw)


def test_poll_delays_back_off_and_end_at_the_deadline() -> None:
    delays = poll_delays(10.0, clock=lambda: 0.0)
    assert delays[:4] == [0.05, 0.1, 0.2, 0.4]
    assert max(delays) == 0.5
    assert math.isclose(sum(delays), 10.0)


def test_inspected_worker() -> None:
    assert inspected_worker(b"/flower/worker/w1%40host", b"") == "w1@host"
    assert inspected_worker(b"/flower/api/workers", b"refresh=1&workername=w2@h") == "w2@h"
    assert inspected_worker(b"/flower/api/workers", b"refresh=1") == ""
    assert inspected_worker(b"/flower/api/worker/pool/grow/w1", b"") is None


@pytest.mark.parametrize(
    ("body", "ready"),
    [
        (b'{"task-id": "t", "state": "SUCCESS", "result": {"pong": true}}', True),
        (b'{"task-id": "t", "state": "FAILURE", "result": "E()", "traceback": "tb"}', True),
        (b'{"task-id": "t", "state": "REVOKED", "result": null}', True),
        (b'{"task-id": "t", "state": "STARTED"}', False),
        (b'{"task-id": "t", "state": "PENDING"}', False),
        # Flower's torn read: state read while running, result read after it ended.
        (b'{"task-id": "t", "state": "STARTED", "result": {"pong": true}}', False),
        (b'{"task-id": "t", "state": "PENDING", "result": null}', False),
        (b"not json", False),
    ],
)
def test_is_ready_only_for_an_ended_state_with_its_result(body: bytes, ready: bool) -> None:
    assert is_ready(body) is ready


def test_apply_answer_has_applys_shape() -> None:
    done = b'{"task-id": "t1", "state": "FAILURE", "result": "E()", "traceback": "tb"}'
    assert apply_answer("t1", done) == (
        b'{"task-id": "t1", "result": "E()", "traceback": "tb", "state": "FAILURE"}'
    )
    running = b'{"task-id": "t1", "state": "STARTED"}'
    assert apply_answer("t1", running) == b'{"task-id": "t1", "state": "STARTED"}'
    assert apply_answer("t1", b"not json") is None


def test_each_user_has_their_own_limit() -> None:
    async def scenario() -> None:
        limiter = WaitLimiter(WaitLimits(per_user=2, max_polling=10))
        async with limiter.hold("viewer", WaitKind.RESULT), limiter.hold("viewer", WaitKind.RESULT):
            with pytest.raises(Busy) as refused:
                async with limiter.hold("viewer", WaitKind.RESULT):
                    pass
            assert refused.value.status == 429
            async with limiter.hold("admin", WaitKind.APPLY):
                assert limiter.summary()["waiting"] == 3
        assert limiter.summary() == {"waiting": 0, "polling": 0, "refused": 1}

    asyncio.run(scenario())


def test_polling_is_capped_for_everybody_together() -> None:
    async def scenario() -> None:
        limiter = WaitLimiter(WaitLimits(per_user=5, max_polling=2))
        async with limiter.hold("a", WaitKind.RESULT), limiter.hold("b", WaitKind.RESULT):
            with pytest.raises(Busy) as refused:
                async with limiter.hold("c", WaitKind.RESULT):
                    pass
            assert refused.value.status == 503
            async with limiter.hold("c", WaitKind.FLOWER):  # another budget
                pass

    asyncio.run(scenario())


def test_flower_waits_take_turns_and_give_up_after_the_slot_timeout() -> None:
    async def scenario() -> None:
        limiter = WaitLimiter(WaitLimits(per_user=5, flower_slots=1, slot_timeout=0.05))
        async with limiter.hold("a", WaitKind.FLOWER):
            with pytest.raises(Busy) as refused:
                async with limiter.hold("b", WaitKind.FLOWER):
                    pass
            assert refused.value.status == 503
        async with limiter.hold("b", WaitKind.FLOWER):
            assert limiter.summary()["waiting"] == 1

    asyncio.run(scenario())


def test_online_workers_are_fetched_once_per_ttl() -> None:
    calls = 0
    now = [0.0]

    async def fetch() -> dict[str, bool]:
        nonlocal calls
        calls += 1
        return {"w1@h": True, "w2@h": False}

    async def scenario() -> None:
        workers = OnlineWorkers(fetch, ttl=2.0, clock=lambda: now[0])
        names = await asyncio.gather(*(workers.names() for _ in range(10)))
        assert all(n == frozenset({"w1@h"}) for n in names)
        assert calls == 1
        now[0] = 3.0
        await workers.names()
        assert calls == 2

    asyncio.run(scenario())
