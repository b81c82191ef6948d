"""``channel-app trigger``: run a task through the web process's Flower API, optionally wait.

Exit status: 0 sent (or, with ``--wait``, succeeded); 1 the task failed or was revoked;
2 the request was refused or bad (arguments, credentials, unknown task, unreachable);
3 still not finished after ``--timeout`` (the task goes on); 130 interrupted while waiting.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from typing import Any, TextIO

from channel_app_template.core.run.flows import FLOWS, TASK_PREFIX
from channel_app_template.ops.arguments import bounded_float
from channel_app_template.ops.flower_api import (
    FlowerAuthError,
    FlowerClient,
    FlowerError,
    FlowerForbidden,
    FlowerNotFound,
    FlowerUnavailable,
    TaskResult,
    add_connection_arguments,
    client_from_args,
    full_task_name,
    short_task_name,
)

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_TIMEOUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_WAIT = 600.0
MIN_WAIT, MAX_WAIT = 0.1, 24 * 3600.0
DEFAULT_INTERVAL = 0.5
MIN_INTERVAL, MAX_INTERVAL = 0.05, 60.0
BAR_WIDTH = 24
SHORT_NAMES = FLOWS.names
"""The app's tasks, by the names ``trigger`` completes with the task-name prefix."""


class UsageError(Exception):
    pass


def _json_argument(text: str | None, kind: type, what: str) -> Any:
    if text is None:
        return kind()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{what} is not valid JSON ({error})") from None
    if not isinstance(value, kind):
        shape = "a JSON list, e.g. '[1, 2]'" if kind is list else "a JSON object, e.g. '{\"a\": 1}'"
        raise UsageError(f"{what} must be {shape}")
    return value


class ProgressLine:
    """One updating line on a terminal; plain lines, only on change, elsewhere."""

    def __init__(self, out: TextIO, task: str) -> None:
        self.out = out
        self.task = short_task_name(task)
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last: tuple[Any, ...] | None = None
        self.drawn = False
        # The last counts seen: Flower's task info (where the counts come from) and its
        # result API are read separately and may lag each other, so a poll can miss the
        # counts of a task that is still running. The line does not go back to no counts.
        self.counted: tuple[str, tuple[Any, ...]] | None = None

    def describe(self, result: TaskResult) -> tuple[str, tuple[Any, ...]]:
        progress = result.progress if not result.ready else None
        if progress is None:
            if self.counted is not None and self.counted[1][0] == result.state:
                return self.counted
            return f"{self.task}: {result.state}", (result.state,)
        done, total, step = progress
        label = f" {step}" if step else ""
        if total > 0:
            filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            percent = 100 * done // total
            text = f"{self.task}: {result.state}{label} [{bar}] {done}/{total} ({percent}%)"
        else:
            text = f"{self.task}: {result.state}{label} {done}/{total}"
        self.counted = text, (result.state, step, done, total)
        return self.counted

    def update(self, result: TaskResult) -> None:
        text, key = self.describe(result)
        if self.tty:
            elapsed = time.monotonic() - self.started
            self.out.write(f"\r\x1b[K{text}  {elapsed:.0f}s")
            self.out.flush()
            self.drawn = True
        elif key != self.last:
            elapsed = time.monotonic() - self.started
            print(f"{text} ({elapsed:.1f}s)", file=self.out, flush=True)
        self.last = key

    def finish(self) -> None:
        if self.tty and self.drawn:
            self.out.write("\n")
            self.out.flush()
            self.drawn = False


def wait_for(
    client: FlowerClient,
    task: str,
    task_id: str,
    *,
    timeout: float,
    interval: float,
    verbose: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    line = ProgressLine(out, task)
    deadline = time.monotonic() + timeout
    hiccups = 0
    result: TaskResult | None = None
    try:
        while True:
            try:
                result = client.result(task_id)
                hiccups = 0
            except FlowerUnavailable as error:
                # A busy or restarting proxy is no reason to give up on a running task.
                hiccups += 1
                if hiccups >= 5 or time.monotonic() >= deadline:
                    line.finish()
                    print(f"error: {error}", file=err)
                    print(f"The task goes on; its id: {task_id}", file=err)
                    return EXIT_REFUSED
            else:
                line.update(result)
                if result.ready:
                    break
            if time.monotonic() >= deadline:
                line.finish()
                state = result.state if result else "unknown"
                print(
                    f"still {state} after {timeout:g}s; the task goes on. Look at it later: "
                    f"GET /flower/api/task/result/{task_id}",
                    file=err,
                )
                return EXIT_TIMEOUT
            time.sleep(interval)
    except KeyboardInterrupt:
        line.finish()
        print(f"\nstopped waiting; the task goes on (id {task_id})", file=err)
        return EXIT_INTERRUPTED
    line.finish()
    summary = {"task": task, "task-id": task_id, "state": result.state, "result": result.result}
    if result.failed:
        print(
            f"error: {short_task_name(task)} ended {result.state}: {_error_text(result.result)}",
            file=err,
        )
        if verbose and result.traceback:
            print(result.traceback.rstrip(), file=err)
        elif result.traceback:
            print("(run with --verbose for the traceback)", file=err)
        print(json.dumps(summary, indent=2, default=str), file=out, flush=True)
        return EXIT_FAILED
    print(json.dumps(summary, indent=2, default=str), file=out, flush=True)
    return EXIT_OK


def _error_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        kind, message = result.get("exc_type"), result.get("exc_message")
        if kind:
            return f"{kind}: {message}"
    return json.dumps(result, default=str)


def run_trigger(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        task_args = _json_argument(args.args, list, "--args")
        task_kwargs = _json_argument(args.kwargs, dict, "--kwargs")
    except UsageError as error:
        print(f"error: {error}", file=err)
        return EXIT_REFUSED
    task = full_task_name(args.task)
    try:
        client = client_from_args(args)
    except FlowerError as error:
        print(f"error: {error}", file=err)
        return EXIT_REFUSED
    with client:
        try:
            sent = client.async_apply(task, task_args, task_kwargs)
        except FlowerNotFound:
            print(
                f"error: Flower at {client.base_url}/flower/ knows no task {task!r}: check the "
                f"name{_suggestion(args.task)} (short names get the {TASK_PREFIX} prefix; "
                "'channel-app trigger --help' lists them), and that this is the channel app's "
                f"web process [{client.origin}]",
                file=err,
            )
            return EXIT_REFUSED
        except (FlowerAuthError, FlowerForbidden, FlowerError) as error:
            print(f"error: {error}", file=err)
            return EXIT_REFUSED
        if not args.wait:
            print(sent.task_id, file=out, flush=True)
            return EXIT_OK
        print(f"sent {task}: task id {sent.task_id}", file=out, flush=True)
        return wait_for(
            client,
            task,
            sent.task_id,
            timeout=max(0.1, args.timeout),
            interval=max(0.05, args.interval),
            verbose=args.verbose,
            out=out,
            err=err,
        )


def _suggestion(name: str) -> str:
    """`` (did you mean 'fetch_orders'?)`` for a short name that is no task of the app."""
    name = name.strip()
    if "." in name or name in SHORT_NAMES:
        return ""
    close = difflib.get_close_matches(name, SHORT_NAMES, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "trigger",
        help="run a task through the web process's Flower API (and wait for it)",
        description=(
            "Send TASK through the web process's /flower/ API. Without --wait, print its id. "
            "With --wait, show its progress and print its JSON summary. Exit status: 0 ok, "
            "1 the task failed, 2 refused/unreachable/bad arguments, 3 --timeout reached."
        ),
        epilog="Tasks (short names): " + ", ".join(SHORT_NAMES) + ".",
    )
    parser.add_argument(
        "task", help="task name: short (insert_and_update_products, see below) or full (a.b.c)"
    )
    parser.add_argument("--args", default=None, help="positional arguments, a JSON list")
    parser.add_argument("--kwargs", default=None, help="keyword arguments, a JSON object")
    add_wait_arguments(parser)
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="print the traceback of a failed task"
    )
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_trigger)


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    """``--wait``, ``--timeout`` and ``--interval``, bounded, for every command that runs a
    task through :func:`run_trigger` (``trigger``, ``resend``)."""
    parser.add_argument("--wait", action="store_true", help="wait for the result, with progress")
    parser.add_argument(
        "--timeout",
        type=bounded_float(MIN_WAIT, MAX_WAIT),
        default=DEFAULT_WAIT,
        help="seconds to wait with --wait (default: %(default)s); the task goes on after",
    )
    parser.add_argument(
        "--interval",
        type=bounded_float(MIN_INTERVAL, MAX_INTERVAL),
        default=DEFAULT_INTERVAL,
        help="seconds between polls with --wait (default: %(default)s)",
    )
