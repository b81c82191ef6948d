"""The dev supervisor with real (tiny) child processes: deaths, signals, no leftovers.

Deadlines are generous (a loaded 2-core machine is slow, never wrong), and what a test
changes in the process (signal handlers) is checked against what it found, since pytest
may start with SIGINT ignored (in the background, ``pytest &``)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from channel_app_template.devstack.supervisor import (
    STOP_SIGNALS,
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


DEADLINE = 60.0


def family_pids(stream: io.StringIO, timeout: float = DEADLINE) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in stream.getvalue().splitlines():
            if "| pids " in line:
                return [int(p) for p in line.split("| pids ")[1].split()]
        time.sleep(0.05)
    raise AssertionError(f"the child never reported its pids:\n{stream.getvalue()}")


def printed(stream: io.StringIO, text: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while text not in stream.getvalue():
        assert time.monotonic() < deadline, f"never printed {text!r}:\n{stream.getvalue()}"
        time.sleep(0.05)


def gone(pids: list[int], timeout: float = DEADLINE) -> bool:
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
    assert time.monotonic() - started < DEADLINE  # not the family's 120 s
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
    found = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    supervisor, stream = make(stop_timeout=1.0)
    with supervisor.signals():
        supervisor.start(ProcessSpec("family", python(FAMILY), tier=0))
        supervisor.start(ProcessSpec("stubborn", python(STUBBORN)))
        pids = family_pids(stream)
        printed(stream, "stubborn | ready")
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
    # Handlers are put back as they were found (SIG_IGN when pytest runs in the background).
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == found


def test_the_signal_test_holds_when_pytest_starts_with_sigint_ignored() -> None:
    """``pytest &`` from a script starts with SIGINT ignored: the test above must pass."""
    test = f"{Path(__file__)}::test_sigint_stops_everything_cleanly_even_a_child_ignoring_sigterm"
    # An ignored signal stays ignored across exec, as for a job a script sends to the background.
    # ``-n 0``: the test runs in that pytest process itself, not in an xdist worker.
    script = 'trap "" INT; exec "$0" -m pytest -q -p no:cacheprovider -n 0 "$1"'
    result = subprocess.run(
        ["/bin/sh", "-c", script, sys.executable, test],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_waiting_for_a_port_ends_when_the_process_dies_first() -> None:
    supervisor, _ = make()
    process = supervisor.start(ProcessSpec("broken", python("import sys; sys.exit(5)")))
    started = time.monotonic()
    with pytest.raises(StackStopped):
        supervisor.wait_for_port(9, process, timeout=DEADLINE * 2)
    supervisor.stop()
    assert time.monotonic() - started < DEADLINE  # not the wait's own timeout
    assert supervisor.failed == ("broken", 5)
    assert supervisor.exit_code() == 5


def test_a_closed_terminal_stops_everything_unless_under_nohup() -> None:
    found = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        supervisor, stream = make()
        with supervisor.signals():
            supervisor.start(ProcessSpec("family", python(FAMILY)))
            pids = family_pids(stream)
            os.kill(os.getpid(), signal.SIGHUP)
            supervisor.wait()
            supervisor.stop()
        assert "SIGHUP received: stopping" in stream.getvalue()
        assert supervisor.exit_code() == 0
        assert gone(pids)
        # nohup ignores SIGHUP so the stack outlives its terminal: keep it that way.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        detached, _ = make()
        with detached.signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, found)
