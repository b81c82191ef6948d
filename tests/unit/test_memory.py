"""The worker's cap on glibc's malloc arenas: taken on glibc, left to the environment's
``MALLOC_ARENA_MAX`` when that is set, never an error elsewhere."""

from __future__ import annotations

import ctypes
import platform

import pytest

from channel_app_template.memory import cap_malloc_arenas


def test_glibc_takes_the_cap() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only: other C libraries have no arenas to cap")
    assert hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    assert cap_malloc_arenas(2) is True


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas(2) is False
