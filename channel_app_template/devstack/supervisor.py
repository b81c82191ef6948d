"""Run a handful of processes in one terminal, honcho-style, and never leave one behind.

Each child gets its own session (so its own process group): a Ctrl-C in the terminal
reaches only us, and stopping a child with ``killpg`` also stops whatever it forked
(Celery's pool processes, uvicorn's reloader). Stopping goes tier by tier, highest
first, so the worker finishes its warm shutdown while the broker it talks to still runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

__all__ = ["Output", "ProcessSpec", "StackStopped", "Supervisor"]

COLORS = ("36", "33", "32", "35", "34", "91", "96", "93", "92", "95")
# Ctrl-C, a polite kill, and a closed terminal all mean "stop everything".
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StackStopped(Exception):
    """Raised by waits once the stack is stopping (Ctrl-C, or a process died)."""


@dataclass(frozen=True)
class ProcessSpec:
    """One child: its argv, extra environment, and its stop tier (infrastructure = 0)."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    tier: int = 1


@dataclass
class Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    reader: threading.Thread


class Output:
    """Prefixed, aligned, optionally colored lines; one lock so lines never interleave."""

    def __init__(self, stream: IO[str] | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        if color is None:
            color = (
                hasattr(self.stream, "isatty")
                and self.stream.isatty()
                and "NO_COLOR" not in os.environ
            )
        self.color = bool(color)
        self.width = 6
        self.lock = threading.Lock()
        self.palette: dict[str, str] = {}

    def register(self, name: str) -> None:
        with self.lock:
            self.width = max(self.width, len(name))
            self.palette.setdefault(name, COLORS[len(self.palette) % len(COLORS)])

    def line(self, name: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            prefix = f"{stamp} {name.ljust(self.width)} | "
            if self.color:
                prefix = f"\033[{self.palette.get(name, '0')}m{prefix}\033[0m"
            try:
                self.stream.write(prefix + text.rstrip("\r\n") + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # the terminal went away; keep supervising
                pass


class Supervisor:
    """Start children, relay their output, and stop them all when one dies or on a signal."""

    def __init__(
        self, output: Output | None = None, stop_timeout: float = 10.0, name: str = "dev"
    ) -> None:
        self.output = output or Output()
        self.stop_timeout = stop_timeout
        self.name = name
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.failed: tuple[str, int] | None = None
        self.lock = threading.Lock()
        self.on_start: Callable[[str, int], None] | None = None
        """Called with each child's name and pid once it runs (``dev`` records them)."""
        self.output.register(name)

    # Starting -------------------------------------------------------------------------

    def start(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        if self.stopping.is_set():
            raise StackStopped
        self.output.register(spec.name)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        process = subprocess.Popen(
            list(spec.command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(spec.cwd) if spec.cwd else None,
            start_new_session=True,
        )
        reader = threading.Thread(
            target=self._relay, args=(spec.name, process), name=f"relay-{spec.name}", daemon=True
        )
        with self.lock:
            self.children.append(Child(spec, process, reader))
        reader.start()
        if self.on_start is not None:
            self.on_start(spec.name, process.pid)
        self.say(f"started {spec.name} (pid {process.pid})")
        return process

    def _relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self.output.line(name, raw.decode("utf-8", errors="replace"))
        process.stdout.close()

    def say(self, text: str) -> None:
        self.output.line(self.name, text)

    def run_helper(self, name: str, target: Callable[[], None]) -> threading.Thread:
        """A background job of ours (not a process); it must return once ``stopping`` is set."""
        self.output.register(name)

        def guarded() -> None:
            try:
                target()
            except StackStopped:
                return
            except Exception as error:  # a helper failing must not take the stack down
                self.output.line(name, f"gave up: {error!r}")

        thread = threading.Thread(target=guarded, name=f"helper-{name}", daemon=True)
        thread.start()
        return thread

    # Waiting --------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake (raising :class:`StackStopped`) as soon as the stack stops."""
        if self.stopping.wait(seconds):
            raise StackStopped

    def wait_for_port(
        self, port: int, process: subprocess.Popen[bytes], timeout: float = 60.0
    ) -> None:
        """Until something listens on ``port``; fail fast if ``process`` exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if process.poll() is not None:
                raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                return
            self.sleep(0.1)
        raise TimeoutError(f"nothing listened on port {port} within {timeout:.0f}s")

    def check(self) -> None:
        """Note a child that exited on its own; raise if the stack is stopping."""
        if self.stopping.is_set():
            raise StackStopped
        with self.lock:
            children = list(self.children)
        for child in children:
            code = child.process.poll()
            if code is not None:
                self.failed = (child.spec.name, code)
                self.say(f"{child.spec.name} exited with code {code}: stopping everything")
                self.stopping.set()
                raise StackStopped

    def wait(self, poll: float = 0.2) -> None:
        """Block until a signal arrives or any child exits."""
        with contextlib.suppress(StackStopped):
            while True:
                self.check()
                self.sleep(poll)

    # Stopping -------------------------------------------------------------------------

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM/SIGHUP set ``stopping``; a second one while stopping kills at once."""
        previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

        def handle(signum: int, frame: FrameType | None) -> None:
            if self.stopping.is_set():
                self.say(f"{signal.Signals(signum).name} again: killing everything now")
                self.kill_all(signal.SIGKILL)
                return
            self.say(f"{signal.Signals(signum).name} received: stopping")
            self.stopping.set()

        for sig in STOP_SIGNALS:
            # Under nohup SIGHUP is ignored on purpose: a closed terminal must not stop us then.
            if sig is signal.SIGHUP and previous[sig] is signal.SIG_IGN:
                continue
            signal.signal(sig, handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def kill_all(self, sig: int) -> None:
        with self.lock:
            children = list(self.children)
        for child in children:
            self._signal(child, sig)

    @staticmethod
    def _signal(child: Child, sig: int) -> None:
        # The group may outlive its leader (a forked pool process): signal it anyway.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, sig)

    def stop(self) -> None:
        """SIGTERM each tier (highest first), SIGKILL what outlives ``stop_timeout``."""
        self.stopping.set()
        with self.lock:
            children = list(self.children)
        for tier in sorted({c.spec.tier for c in children}, reverse=True):
            group = [c for c in children if c.spec.tier == tier]
            for child in group:
                if child.process.poll() is None:
                    self.say(f"stopping {child.spec.name}")
                self._signal(child, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout
            for child in group:
                try:
                    child.process.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.say(f"{child.spec.name} ignored SIGTERM: killing it")
                    self._signal(child, signal.SIGKILL)
                    child.process.wait(5)
                # Leftovers of the group (pool processes) go too, leader gone or not.
                self._signal(child, signal.SIGKILL)
        for child in children:
            child.reader.join(2)

    def exit_code(self) -> int:
        """0 after a requested stop; non-zero when a process died on its own."""
        if self.failed is None:
            return 0
        return self.failed[1] if self.failed[1] > 0 else 1
