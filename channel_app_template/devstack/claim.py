"""One ``channel-app dev`` per state dir, and nothing of a dead one left running.

A state dir holds one broker's data, one beat schedule and the simulators' SQLite files:
two stacks on it corrupt each other. So ``dev`` takes an exclusive lock on
``<state>/dev.lock`` for its whole life (the kernel drops it when ``dev`` dies, however it
dies) and a second ``dev`` on the same dir is refused, naming the first.

Every process of the stack inherits two environment variables: the state dir and a run id.
They are how leftovers are recognised for certain (a pid alone may have been reused):

* while ``dev`` lives, a small reaper process (:mod:`.reaper`, in its own session) waits on
  a pipe from ``dev``; when ``dev`` is gone, even by SIGKILL, the pipe closes and the reaper
  stops every process carrying this run's id;
* should the reaper have died too, the next ``dev`` on the state dir finds processes
  carrying the state dir and stops them before starting anything. ``dev-processes.json``
  records the children's pids with their start times and command lines, so a recorded pid
  is still found (and only when it is still the same process) where the environment of
  a process cannot be read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

__all__ = [
    "LOCK_FILE",
    "RECORD_FILE",
    "RUN_VARIABLE",
    "STATE_VARIABLE",
    "LeftoversRemainError",
    "StateDirBusyError",
    "StateDirClaim",
    "claim_state_dir",
    "find_leftovers",
    "find_run",
    "stop_processes",
]

STATE_VARIABLE = "CHANNEL_APP_DEV_STATE"
RUN_VARIABLE = "CHANNEL_APP_DEV_RUN"
LOCK_FILE = "dev.lock"
RECORD_FILE = "dev-processes.json"
MAX_RECORD_BYTES = 1024 * 1024
# psutil reports start times rounded to the clock tick: equal within this is the same process.
SAME_START = 0.05
LISTED_COMMAND_CHARS = 60


class StateDirBusyError(RuntimeError):
    """Another ``channel-app dev`` holds the state dir."""


class LeftoversRemainError(RuntimeError):
    """Processes of an earlier ``dev`` are still running and could not be stopped."""


@dataclass(frozen=True)
class RecordedProcess:
    name: str
    pid: int
    create_time: float
    cmdline: list[str]


@dataclass
class StateDirClaim:
    """Held for the life of ``dev``: the lock, the run id, the record of children."""

    state_dir: Path
    run_id: str
    lock_fd: int
    processes: list[RecordedProcess] = field(default_factory=list)
    reaper: subprocess.Popen[bytes] | None = None

    @property
    def record_path(self) -> Path:
        return self.state_dir / RECORD_FILE

    def record(self, name: str, pid: int) -> None:
        """Note a child just started (pid, start time, command line), on disk at once."""
        try:
            proc = psutil.Process(pid)
            create_time, cmdline = proc.create_time(), proc.cmdline()
        except psutil.Error:
            return  # already gone: nothing to find later
        self.processes.append(RecordedProcess(name, pid, create_time, cmdline))
        self._write()

    def _write(self) -> None:
        data = {
            "dev_pid": os.getpid(),
            "run": self.run_id,
            "processes": [asdict(p) for p in self.processes],
        }
        temporary = self.record_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1))
        temporary.replace(self.record_path)


def _read_json(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        if path.stat().st_size <= MAX_RECORD_BYTES:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                return loaded
    return {}


def _recorded(state_dir: Path, run: str | None = None) -> list[RecordedProcess]:
    """The record's children; only when it belongs to ``run``, if one is given."""
    data = _read_json(state_dir / RECORD_FILE)
    if run is not None and data.get("run") != run:
        return []
    rows = data.get("processes")
    found: list[RecordedProcess] = []
    for row in rows if isinstance(rows, list) else []:
        with contextlib.suppress(TypeError, ValueError, KeyError):
            found.append(
                RecordedProcess(
                    str(row["name"]),
                    int(row["pid"]),
                    float(row["create_time"]),
                    [str(part) for part in row["cmdline"]],
                )
            )
    return found


def _protected() -> set[int]:
    """Ourselves and our ancestors: never leftovers, whatever their environment says."""
    pids = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        pids.update(p.pid for p in psutil.Process().parents())
    return pids


def processes_marked(variable: str, value: str) -> list[psutil.Process]:
    """Processes (of this user: others' environments cannot be read) whose environment
    has ``variable=value``, ourselves and our ancestors excepted."""
    protected = _protected()
    found: list[psutil.Process] = []
    for proc in psutil.process_iter(["environ"]):
        environ = proc.info.get("environ")
        if environ and environ.get(variable) == value and proc.pid not in protected:
            found.append(proc)
    return found


def _still_the_same(row: RecordedProcess) -> psutil.Process | None:
    """The recorded process if that pid is still it: the same start time. (Not the
    command line: programs may rewrite it, as Valkey does with its process title.)"""
    try:
        proc = psutil.Process(row.pid)
        same = abs(proc.create_time() - row.create_time) <= SAME_START
    except psutil.Error:
        return None
    return proc if same else None


def _collect(variable: str, value: str, rows: Iterable[RecordedProcess]) -> list[psutil.Process]:
    found = {p.pid: p for p in processes_marked(variable, value)}
    protected = _protected()
    for row in rows:
        proc = _still_the_same(row)
        if proc is not None and proc.pid not in protected:
            found.setdefault(proc.pid, proc)
    return sorted((p for p in found.values() if _alive(p)), key=lambda p: p.pid)


def find_leftovers(state_dir: Path) -> list[psutil.Process]:
    """Running processes of an earlier ``dev`` on ``state_dir``, by environment or record."""
    return _collect(STATE_VARIABLE, str(state_dir), _recorded(state_dir))


def find_run(state_dir: Path, run: str) -> list[psutil.Process]:
    """Running processes of the ``dev`` run ``run`` (what its reaper stops)."""
    return _collect(RUN_VARIABLE, run, _recorded(state_dir, run))


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_processes(processes: Iterable[psutil.Process], grace: float) -> list[psutil.Process]:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns those still running."""
    targets = list(processes)
    for proc in targets:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(targets, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _, alive = psutil.wait_procs(alive, timeout=5)
    return [p for p in alive if _alive(p)]


def _names(state_dir: Path) -> dict[int, str]:
    return {row.pid: row.name for row in _recorded(state_dir)}


def _label(proc: psutil.Process, names: dict[int, str]) -> str:
    from channel_app_template.devstack.ports import describe_process

    name = names.get(proc.pid)
    return f"{name} (pid {proc.pid})" if name else describe_process(proc, LISTED_COMMAND_CHARS)


def _lock(state_dir: Path) -> int:
    """The exclusive lock on ``dev.lock``, or :class:`StateDirBusyError` naming its holder."""
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = _read_json(path)
        pid = holder.get("pid", "?")
        since = holder.get("started")
        when = (
            f", started {time.strftime('%H:%M:%S', time.localtime(since))}"
            if isinstance(since, int | float)
            else ""
        )
        raise StateDirBusyError(
            f"{state_dir} is in use by another channel-app dev (pid {pid}{when}): two stacks "
            "on one state dir would share its broker data, beat schedule and simulator "
            "databases. Stop that one (Ctrl-C in its terminal), or give this one its own "
            "--state-dir."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "started": time.time()}).encode())
    return fd


def _clear_leftovers(state_dir: Path, say: Callable[[str], None], grace: float) -> None:
    leftovers = find_leftovers(state_dir)
    if not leftovers:
        return
    names = _names(state_dir)
    say(
        f"an earlier channel-app dev on {state_dir} did not stop its processes (killed?); "
        f"stopping {len(leftovers)}: " + ", ".join(_label(p, names) for p in leftovers)
    )
    remaining = stop_processes(leftovers, grace)
    if remaining:
        raise LeftoversRemainError(
            "these processes of an earlier channel-app dev could not be stopped: "
            + ", ".join(_label(p, names) for p in remaining)
        )


def _start_reaper(state_dir: Path, run_id: str, grace: float) -> subprocess.Popen[bytes]:
    """The watcher that stops this run's processes once ``dev`` is gone (see module doc)."""
    command = [sys.executable, "-m", "channel_app_template.devstack.reaper"]
    command += ["--state-dir", str(state_dir), "--run", run_id]
    command += ["--dev-pid", str(os.getpid()), "--grace", str(grace)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, start_new_session=True)


@contextlib.contextmanager
def claim_state_dir(
    state_dir: Path, say: Callable[[str], None], grace: float = 10.0, *, reaper: bool = True
) -> Iterator[StateDirClaim]:
    """Lock ``state_dir``, stop a dead ``dev``'s leftovers, mark and watch what we start.

    Marks the environment (``os.environ``) so every process started from here on carries
    it, and restores it on the way out."""
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = _lock(state_dir)
    previous = {name: os.environ.get(name) for name in (STATE_VARIABLE, RUN_VARIABLE)}
    claim = StateDirClaim(state_dir, uuid.uuid4().hex, fd)
    try:
        _clear_leftovers(state_dir, say, grace)
        os.environ[STATE_VARIABLE] = str(state_dir)
        os.environ[RUN_VARIABLE] = claim.run_id
        if reaper:
            claim.reaper = _start_reaper(state_dir, claim.run_id, grace)
            claim.record("reaper", claim.reaper.pid)
        yield claim
    finally:
        if claim.reaper is not None:
            _release_reaper(claim.reaper, grace)
        with contextlib.suppress(OSError):
            claim.record_path.unlink()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.close(fd)  # releases the lock


def _release_reaper(reaper: subprocess.Popen[bytes], grace: float) -> None:
    """Close its pipe: it stops any straggler of ours, then exits."""
    with contextlib.suppress(OSError):
        if reaper.stdin is not None:
            reaper.stdin.close()
    try:
        reaper.wait(grace + 10)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait(5)
