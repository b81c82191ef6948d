"""The dev supervisor with real (tiny) child processes: deaths, signals, no leftovers."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time

import psutil
import pytest

from channel_app_template.devstack.supervisor import (
    Output,
    ProcessSpec,
    StackStopped,
    Supervisor,
)

# A child that forks a grandchild into its own process group, prints both pids, then sleeps.
FAMILY = (
    "import os, subprocess, sys, time\n"
    "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print('pids', os.getpid(), kid.pid, flush=True)\n"
    "time.sleep(120)\n"
)
STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def family_pids(stream: io.StringIO, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in stream.getvalue().splitlines():
            if "| pids " in line:
                return [int(p) for p in line.split("| pids ")[1].split()]
        time.sleep(0.05)
    raise AssertionError(f"the child never reported its pids:\n{stream.getvalue()}")


def gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and _not_zombie(p)]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def make(stop_timeout: float = 5.0) -> tuple[Supervisor, io.StringIO]:
    stream = io.StringIO()
    return Supervisor(Output(stream, color=False), stop_timeout=stop_timeout), stream


def test_output_is_prefixed_and_aligned() -> None:
    supervisor, stream = make()
    supervisor.output.register("worker")
    supervisor.start(ProcessSpec("web", python("print('hello'); print('there')")))
    supervisor.wait()
    supervisor.stop()
    lines = [line for line in stream.getvalue().splitlines() if "| hello" in line]
    assert lines and lines[0][9:].startswith("web    | hello"), stream.getvalue()
    assert "web    | there" in stream.getvalue()


def test_a_child_dying_stops_the_rest_and_fails_the_run() -> None:
    supervisor, stream = make()
    supervisor.start(ProcessSpec("family", python(FAMILY)))
    pids = family_pids(stream)
    supervisor.start(ProcessSpec("dier", python("import time, sys; time.sleep(0.5); sys.exit(3)")))
    started = time.monotonic()
    supervisor.wait()
    supervisor.stop()
    assert time.monotonic() - started < 10
    assert supervisor.failed == ("dier", 3)
    assert supervisor.exit_code() == 3
    assert "dier exited with code 3: stopping everything" in stream.getvalue()
    assert gone(pids), "the child or its grandchild survived"


def test_a_child_exiting_cleanly_on_its_own_still_counts_as_a_failure() -> None:
    supervisor, _ = make()
    supervisor.start(ProcessSpec("quitter", python("pass")))
    supervisor.wait()
    supervisor.stop()
    assert supervisor.exit_code() == 1


def test_sigint_stops_everything_cleanly_even_a_child_ignoring_sigterm() -> None:
    supervisor, stream = make(stop_timeout=1.0)
    with supervisor.signals():
        supervisor.start(ProcessSpec("family", python(FAMILY), tier=0))
        supervisor.start(ProcessSpec("stubborn", python(STUBBORN)))
        pids = family_pids(stream)
        while "stubborn | ready" not in stream.getvalue():
            time.sleep(0.05)
        stubborn = supervisor.children[1].process.pid
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        supervisor.wait()
        supervisor.stop()
    text = stream.getvalue()
    assert "SIGINT received: stopping" in text
    assert "stubborn ignored SIGTERM: killing it" in text
    # Higher tiers stop first: the app before the infrastructure it uses.
    assert text.index("stopping stubborn") < text.index("stopping family")
    assert supervisor.exit_code() == 0
    assert gone([*pids, stubborn])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_waiting_for_a_port_ends_when_the_process_dies_first() -> None:
    supervisor, _ = make()
    process = supervisor.start(ProcessSpec("broken", python("import sys; sys.exit(5)")))
    started = time.monotonic()
    with pytest.raises(StackStopped):
        supervisor.wait_for_port(9, process, timeout=30)
    supervisor.stop()
    assert time.monotonic() - started < 10
    assert supervisor.failed == ("broken", 5)
    assert supervisor.exit_code() == 5
