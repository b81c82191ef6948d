"""The web process's coalescing transport: one write per loop step, nothing held past it."""

from __future__ import annotations

import asyncio

from channel_app_template.api._coalesce import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0


def test_writes_made_in_one_loop_step_leave_as_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        outer.write(b"body")
        assert inner.writes == []
        assert outer.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_writes_in_later_steps_are_not_held_back() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"first")
        await asyncio.sleep(0)
        outer.write(b"second")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"first", b"second"]


def test_close_writes_out_what_is_held_before_closing() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        outer.close()
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"HTTP/1.1 408 Request Timeout\r\n\r\n"]
    assert inner.closed


def test_abort_drops_what_is_held() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"never sent")
        outer.abort()
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == []
    assert inner.aborted


def test_write_now_writes_at_once_after_what_is_held() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"held ")
        outer.write_now(b"whole answer")
        assert inner.writes == [b"held ", b"whole answer"]  # before the loop step ends
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"held ", b"whole answer"]
