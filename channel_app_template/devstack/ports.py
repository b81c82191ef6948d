"""Loopback ports for ``channel-app dev``: which are free, and who holds a busy one."""

from __future__ import annotations

import contextlib
import socket

import psutil

__all__ = [
    "LOOPBACK",
    "describe_process",
    "first_free_port",
    "port_holder",
    "port_in_use_message",
    "port_is_free",
]

LOOPBACK = "127.0.0.1"
MAX_COMMAND_CHARS = 120


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    # Something may also listen on the wildcard address only; a connect tells.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) != 0


def first_free_port(base: int, host: str = LOOPBACK, tries: int = 50) -> int:
    """The first free port from ``base`` on: stable across runs, yet never a clash."""
    for port in range(base, base + tries):
        if port_is_free(port, host):
            return port
    raise OSError(f"no free port in {base}..{base + tries - 1}")


def describe_process(process: psutil.Process, width: int = MAX_COMMAND_CHARS) -> str:
    """``pid 123 (celery -A app worker ...)``: enough to recognise it, bounded in length."""
    try:
        command = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        command = "?"
    if len(command) > width:
        command = command[: width - 3] + "..."
    return f"pid {process.pid} ({command})"


def port_holder(port: int) -> psutil.Process | None:
    """The process listening on ``port``, when this user may see it (Linux shows our own
    processes' sockets; macOS shows none without root, so then there is no answer)."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            address = conn.laddr
            if conn.status != psutil.CONN_LISTEN or not isinstance(address, tuple):
                continue
            if len(address) >= 2 and address[1] == port and conn.pid is not None:
                return psutil.Process(conn.pid)
    return None


def port_in_use_message(port: int, what: str) -> str:
    """Why ``port`` cannot be used, naming what holds it when that can be found."""
    holder = port_holder(port)
    if holder is None:
        return f"port {port} is in use ({what}); find what holds it with: lsof -i :{port}"
    return f"port {port} is in use ({what}) by {describe_process(holder)}"
