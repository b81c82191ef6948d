"""The recorder: wraps each supported command on the channel instance to check every call.

The engine calls the channel as it always does; each wrapper notes that the command ran,
checks what it returned against :mod:`._returns` (row types, exactly one row per item
sent, ``Submitted`` jobs read back by their check command) and records a command that
raised, naming it. ``supports()`` is unchanged: wrapping happens on the instance.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Collection, Sequence
from typing import Any

from channel_app_template.channel import ChannelIntegration, ResponseStatus, Submitted
from channel_app_template.errors import ItemError, RetryLater
from channel_app_template.kit.conformance._report import ConformanceReport
from channel_app_template.kit.conformance._returns import (
    CHECK_OF,
    GETTERS,
    IDLE_GETTER,
    ROW_TYPES,
    getter_item_types,
    item_key,
    names,
    setup_problems,
    what,
)

__all__ = ["Recorder"]

Job = tuple[str, list[str], set[str]]
"""A ``Submitted`` job: the command that sent it, the keys sent, the keys it rejected."""


class Recorder:
    def __init__(self, report: ConformanceReport, channel_class: type[ChannelIntegration]):
        self.report = report
        self.cls = channel_class
        self.jobs: dict[tuple[str, str], Job] = {}
        self.current = ""
        """The command called last: the culprit when an engine run stops."""

    def instrument(self, channel: object, commands: Collection[str]) -> None:
        """Replace each command on the instance ``channel`` by its checking wrapper."""
        for command in commands:
            original = getattr(channel, command)
            if command in CHECK_OF:
                wrapper = self._wrap_send(command, original)
            elif command in CHECK_OF.values():
                wrapper = self._wrap_check(command, original)
            else:
                wrapper = self._wrap_other(command, original)
            setattr(channel, command, wrapper)

    def _call(self, command: str, original: Callable[..., Any], *args: Any) -> Any:
        if command.startswith("acknowledge_") and not (args and len(args[0])):
            self.report.idle(command, "only called with nothing to acknowledge")
        elif command not in GETTERS:  # a getter has run when it returned something
            self.report.ran(command)
        self.current = command
        try:
            return original(*args)
        except (RetryLater, ItemError):
            raise
        except Exception as error:
            self.report.fail(command, f"raised {what(error)}")
            raise

    def _wrap_send(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        expected = ROW_TYPES[command]

        def send(items: Sequence[Any]) -> Any:
            keys = [item_key(command, item) for item in items]
            result = self._call(command, original, items)
            if isinstance(result, Submitted):
                self._submitted(command, keys, result, expected)
            elif isinstance(result, list):
                self._rows(command, command, items, keys, result, expected)
            else:
                self.report.fail(
                    command,
                    f"returned {type(result).__name__}; expected list[{expected.__name__}] "
                    "or Submitted",
                )
            return result

        return send

    def _submitted(
        self, command: str, keys: list[str], result: Submitted, expected: type[Any]
    ) -> None:
        check = CHECK_OF[command]
        if not self.cls.supports(check):
            self.report.fail(
                command, f"returned Submitted, but {check} is not supported to read it"
            )
        rejected = set()
        for row in result.rejected:
            self._row_type(command, row, expected, "in Submitted.rejected ")
            rejected.add(item_key(command, row))
        if unknown := rejected - set(keys):
            self.report.fail(command, f"rejected rows for items not sent: {sorted(unknown)}")
        self.jobs[(check, result.remote_batch_id)] = (command, keys, rejected)

    def _wrap_check(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        expected = ROW_TYPES[command]

        def check(remote_batch_id: str) -> Any:
            result = self._call(command, original, remote_batch_id)
            if result is None:
                return None
            if not isinstance(result, list):
                self.report.fail(
                    command,
                    f"returned {type(result).__name__}; expected list[{expected.__name__}] or None",
                )
                return result
            job = self.jobs.pop((command, remote_batch_id), None)
            if job is None:
                for row in result:
                    self._row_type(command, row, expected)
                return result
            sender, keys, rejected = job
            wanted = [key for key in keys if key not in rejected]
            label = f"{command} (job {remote_batch_id!r} of {sender})"
            self._rows(command, label, None, wanted, result, expected)
            return result

        return check

    def _row_type(self, command: str, row: Any, expected: type[Any], where: str = "") -> bool:
        if isinstance(row, expected):
            return True
        self.report.fail(
            command,
            f"returned a {type(row).__name__} row {where}where {expected.__name__} is expected",
        )
        return False

    def _rows(
        self,
        command: str,
        label: str,
        items: Sequence[Any] | None,
        keys: Sequence[str],
        rows: Sequence[Any],
        expected: type[Any],
    ) -> None:
        """Exactly one row of the right type per key; success rows with a remote id."""
        typed = [row for row in rows if self._row_type(command, row, expected)]
        keyed = [row for row in rows if hasattr(row, "sku") or hasattr(row, "number")]
        counted = collections.Counter(item_key(command, row) for row in keyed)
        fail = self.report.fail
        if missing := [key for key in keys if key not in counted]:
            fail(
                command,
                f"{label}: no result row for {len(missing)} of {len(keys)} items: {missing[:5]} "
                "(every item sent needs exactly one row carrying its key)",
            )
        if doubled := sorted(key for key, n in counted.items() if n > 1):
            fail(command, f"{label}: several rows for {doubled[:5]}")
        if unknown := sorted(set(counted) - set(keys)):
            fail(command, f"{label}: rows for items that were not sent: {unknown[:5]}")
        if "products" in command and "deleted" not in command:
            known = {item_key(command, item): item.remote_id for item in items or ()}
            bare = [
                item_key(command, row)
                for row in typed
                if row.status == ResponseStatus.SUCCESS
                and not row.remote_id
                and not known.get(item_key(command, row))
            ]
            if bare:
                fail(command, f"{label}: SUCCESS rows without a remote_id: {bare[:5]}")

    def _wrap_other(self, command: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            result = self._call(command, original, *args)
            if command not in GETTERS:
                for problem in setup_problems(command, result, args):
                    self.report.fail(command, problem)
                return result
            result = list(result)
            if result:
                self.report.ran(command)
            self.report.idle(command, f"{IDLE_GETTER} ({command} returned nothing)")
            item_types = getter_item_types(command)
            for each in result:
                if not isinstance(each, item_types):
                    self.report.fail(
                        command, f"yielded a {type(each).__name__}; expected {names(item_types)}"
                    )
            return result

        return call
