"""The Procfile, read and run the way honcho (and ACC) run it: each line through ``sh -c``.

``channel-app dev`` runs these literal lines and nothing of its own, so a Procfile that is
broken for the deployed app (a console script that cannot import the channel, a mistyped
option) is just as broken under ``dev``. What ``dev`` must change (ports, the beat
schedule file, the web address) reaches the lines through the environment, which the shell
expands (``${WEB_PORT:-8008}``), never by rewriting them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_PROCESSES",
    "MAX_PROCFILE_BYTES",
    "SHELL",
    "ProcfileError",
    "ProcfileProcess",
    "read_procfile",
    "shell_command",
]

# honcho's own grammar: anything else on a line is not a process (honcho skips it too).
PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
SHELL = "/bin/sh"
MAX_PROCFILE_BYTES = 64 * 1024
MAX_PROCESSES = 20


class ProcfileError(ValueError):
    """The Procfile is missing, too big, or names no process (or one twice)."""


@dataclass(frozen=True)
class ProcfileProcess:
    """One ``name: command`` line."""

    name: str
    command: str


def read_procfile(path: Path) -> list[ProcfileProcess]:
    """The processes of ``path``, in file order; lines honcho would skip are skipped."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProcfileError(
            f"no Procfile at {path}: run channel-app dev in the project's root directory "
            "(where the Procfile is), or pass --procfile PATH"
        ) from None
    except OSError as error:
        raise ProcfileError(f"cannot read {path}: {error.strerror}") from None
    if size > MAX_PROCFILE_BYTES:
        raise ProcfileError(f"{path}: {size} bytes, a Procfile is limited to {MAX_PROCFILE_BYTES}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProcfileError(f"cannot read {path} as UTF-8 text: {error}") from None
    processes: list[ProcfileProcess] = []
    for line in text.splitlines():
        match = PROCFILE_LINE.match(line)
        if match is None:
            continue
        name, command = match.group(1), match.group(2)
        if any(p.name == name for p in processes):
            raise ProcfileError(f"{path}: process {name!r} is defined twice")
        processes.append(ProcfileProcess(name, command))
    if not processes:
        raise ProcfileError(f"{path}: no 'name: command' line, so nothing to run")
    if len(processes) > MAX_PROCESSES:
        raise ProcfileError(
            f"{path}: {len(processes)} processes, channel-app dev runs at most {MAX_PROCESSES}"
        )
    return processes


def shell_command(process: ProcfileProcess) -> list[str]:
    """What honcho runs for a line (``Popen(line, shell=True)``): the line, untouched."""
    return [SHELL, "-c", process.command]
