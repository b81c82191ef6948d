"""One ``channel-app dev`` per state dir, and nothing of a dead one left running.

Real (tiny) processes, each started here and stopped here: a leftover is recognised by the
state dir in its environment or by its recorded pid *and* start time, never by a pid alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from channel_app_template.devstack.claim import (
    RECORD_FILE,
    RUN_VARIABLE,
    STATE_VARIABLE,
    StateDirBusyError,
    claim_state_dir,
)

DEADLINE = 60.0
# Ignores SIGTERM (only SIGKILL ends it) and keeps a child of its own.
STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print(kid.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone(pids: list[int], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while any(running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@contextlib.contextmanager
def stubborn(env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A SIGTERM-deaf process and its child (pid), killed at the end whatever happened."""
    process = subprocess.Popen(
        [sys.executable, "-c", STUBBORN],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    assert process.stdout is not None
    kid = int(process.stdout.readline())
    started = [psutil.Process(process.pid), psutil.Process(kid)]  # remember who they are
    try:
        yield process, kid
    finally:
        for proc in started:
            with contextlib.suppress(psutil.Error):
                proc.kill()  # psutil checks the start time: never a reused pid
        process.wait(10)


def test_a_second_dev_on_the_same_state_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    said: list[str] = []
    with claim_state_dir(tmp_path / "state", said.append, reaper=False):
        with (
            pytest.raises(StateDirBusyError, match=f"another channel-app dev \\(pid {os.getpid()}"),
            claim_state_dir(tmp_path / "state", said.append, reaper=False),
        ):
            pass
        # Another state dir is another stack.
        with claim_state_dir(tmp_path / "other", said.append, reaper=False):
            pass
    with claim_state_dir(tmp_path / "state", said.append, reaper=False):
        pass  # the lock went with the first
    assert said == []


def test_the_environment_is_marked_for_children_and_restored(tmp_path: Path) -> None:
    before = {name: os.environ.get(name) for name in (STATE_VARIABLE, RUN_VARIABLE)}
    with claim_state_dir(tmp_path / "state", print, reaper=False) as claim:
        assert os.environ[STATE_VARIABLE] == str((tmp_path / "state").resolve())
        assert os.environ[RUN_VARIABLE] == claim.run_id
    assert {name: os.environ.get(name) for name in before} == before
    assert not (tmp_path / "state" / RECORD_FILE).exists()


def test_leftovers_carrying_the_state_dir_are_stopped_and_named(tmp_path: Path) -> None:
    state = (tmp_path / "state").resolve()
    said: list[str] = []
    with stubborn({STATE_VARIABLE: str(state)}) as (left, kid):
        with claim_state_dir(state, said.append, grace=1.0, reaper=False):
            assert gone([left.pid, kid])
        assert len(said) == 1 and "did not stop its processes" in said[0]
        assert f"pid {left.pid} (" in said[0] and f"pid {kid} (" in said[0]


def test_a_recorded_pid_is_stopped_only_while_it_is_the_same_process(tmp_path: Path) -> None:
    state = (tmp_path / "state").resolve()
    state.mkdir()
    with stubborn() as (ours, _), stubborn() as (reused, _):
        rows = [
            {"name": "worker", "pid": ours.pid, "cmdline": ["sh"]},
            {"name": "beat", "pid": reused.pid, "cmdline": ["sh"]},
        ]
        rows[0]["create_time"] = psutil.Process(ours.pid).create_time()
        # The same pid, started at another time: not the process dev recorded.
        rows[1]["create_time"] = psutil.Process(reused.pid).create_time() - 100
        (state / RECORD_FILE).write_text(json.dumps({"run": "r", "processes": rows}))
        said: list[str] = []
        with claim_state_dir(state, said.append, grace=1.0, reaper=False):
            assert gone([ours.pid])
            assert running(reused.pid)
        assert f"worker (pid {ours.pid})" in said[0] and "beat" not in said[0]


FAKE_DEV = """
import subprocess, sys, time
from pathlib import Path
from channel_app_template.devstack.claim import claim_state_dir

with claim_state_dir(Path(sys.argv[1]), print, grace=1.0) as claim:
    child = subprocess.Popen([sys.executable, "-c", sys.argv[2]], stdout=subprocess.PIPE,
                             text=True, start_new_session=True)
    claim.record("stubborn", child.pid)
    kid = int(child.stdout.readline())
    print("pids", claim.reaper.pid, child.pid, kid, flush=True)
    time.sleep(600)
"""


def test_processes_die_with_a_killed_dev(tmp_path: Path) -> None:
    """SIGKILL leaves dev no chance: its reaper stops the rest (SIGTERM-deaf ones too)."""
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE_DEV, str(tmp_path / "state"), STUBBORN],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert fake.stdout is not None
    line = fake.stdout.readline()
    pids: list[int] = []
    try:
        assert line.startswith("pids "), line
        pids = [int(p) for p in line.split()[1:]]
        assert all(running(p) for p in pids)
        os.kill(fake.pid, signal.SIGKILL)
        fake.wait(10)
        assert gone(pids), [p for p in pids if running(p)]
        assert "is gone; stopping the 2 processes it left" in fake.stdout.read()
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
        if fake.poll() is None:
            fake.kill()
            fake.wait(10)
