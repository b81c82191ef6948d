"""``channel-app dev`` after a crash: its processes die with it, and a restart just works.

Real processes throughout (embedded Valkey, both simulators, the Procfile's lines plus one
that ignores SIGTERM). Killed with SIGKILL, ``dev`` leaves nothing running once its reaper
has acted; if the reaper was killed too, the next ``dev`` on the same state dir finds the
leftovers, stops them and starts on the same port. A second ``dev`` on a state dir in use
is refused naming the first, and a busy web port is reported naming what holds it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from tests.support.dev_stack import (
    DevRun,
    clean_env,
    project_with_procfile,
    start_dev,
    still_running,
    stop_leftovers,
    wait_until,
)
from tests.support.processes import free_port

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
CHANNEL_APP = [str(BIN / "channel-app")]
# A Procfile process that ignores SIGTERM: only SIGKILL ends it.
STUBBORN = (
    "stubborn: python -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    'print("ready", flush=True); time.sleep(600)\'\n'
)
GRACE = "3"


def reaper_of(dev: DevRun) -> psutil.Process | None:
    for proc in dev.tree():
        with contextlib.suppress(psutil.Error):
            if "channel_app_template.devstack.reaper" in " ".join(proc.cmdline()):
                return proc
    return None


def exited(dev: DevRun, timeout: float = 120.0) -> int:
    wait_until(lambda: dev.process.poll() is not None, timeout, None, "dev to exit")
    return int(dev.process.returncode)


def test_a_killed_dev_leaves_nothing_running_and_the_next_start_just_works(
    tmp_path: Path,
) -> None:
    project = project_with_procfile(tmp_path / "project", STUBBORN)
    state = tmp_path / "state"
    env = clean_env(f"{BIN}:/usr/bin:/bin")
    args = ("--products", "5", "--no-demo-orders", "--stop-timeout", GRACE)
    port = free_port()
    runs: list[DevRun] = []
    seen: list[psutil.Process] = []

    def dev(*extra: str, web_port: int = port) -> DevRun:
        run = start_dev(CHANNEL_APP, project, env, *args, *extra, web_port=web_port)
        runs.append(run)
        return run

    try:
        first = dev("--state-dir", str(state))
        first.banner("stop")
        wait_until(lambda: "stubborn | ready" in first.output(), 60, first, "stubborn")
        first_tree = first.tree()
        seen += first_tree
        assert len(first_tree) >= 5, [p.cmdline() for p in first_tree]
        # The worst case: dev and its reaper die at once, nothing is cleaned up.
        reaper = reaper_of(first)
        if reaper is not None:
            reaper.kill()
        first.process.kill()
        first.process.wait(10)
        assert still_running(first_tree, 0), "nothing was left to find"

        second = dev("--state-dir", str(state))  # same state dir, same port
        second.banner("stop")
        output = second.output()
        assert "did not stop its processes" in output, output[-3000:]
        assert "stubborn (pid" in output and "valkey (pid" in output, output[-3000:]
        alive = still_running(first_tree, 30)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
        second_tree = second.tree()
        seen += second_tree

        # A second stack on the same state dir is refused, naming the first.
        refused = dev("--state-dir", str(state), web_port=free_port())
        assert exited(refused) == 2
        assert f"is in use by another channel-app dev (pid {second.process.pid}" in (
            refused.output()
        ), refused.output()
        # A busy web port is refused naming what holds it (the first stack's web).
        busy = dev("--state-dir", str(tmp_path / "other-state"))
        assert exited(busy) == 2
        assert f"port {port} is in use" in busy.output(), busy.output()
        assert "uvicorn channel_app_template.api.main:app" in busy.output(), busy.output()

        # SIGKILL alone: the reaper stops everything, the SIGTERM-deaf process too.
        second.process.kill()
        second.process.wait(10)
        alive = still_running(second_tree, 60)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
        assert "is gone; stopping the" in second.output()
    finally:
        for run in runs:
            stop_leftovers(run, seen)
        for proc in seen:  # only processes this test started
            with contextlib.suppress(psutil.Error):
                if proc.is_running():
                    os.kill(proc.pid, signal.SIGKILL)
