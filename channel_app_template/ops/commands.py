"""Operator subcommands: ``check`` (can this deployment sync?), ``trigger`` (run a task
through the web process's Flower API) and ``status`` (workers, tasks, failures)."""

from __future__ import annotations

from typing import Any

from channel_app_template.ops import check, resend, status, trigger


def register(subparsers: Any) -> None:
    check.register(subparsers)
    trigger.register(subparsers)
    status.register(subparsers)
    resend.register(subparsers)
