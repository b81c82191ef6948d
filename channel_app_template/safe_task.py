"""The base class of every Celery task: nothing secret leaves a task.

Celery stores a task's exception, traceback, progress meta and return value in the result
backend and sends them in events (``task-failed``, ``task-retried``, ``task-progress``,
``task-succeeded``), which Flower shows to every user, read-only ones too. All of them
are made in the process that runs the task, which is also the only process that knows
the secrets of the channel's configuration (registered when the task opens its runtime),
so this is where they are redacted: once, before Celery sees any of it.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.exceptions import Ignore, Reject, Retry

from channel_app_template.logs import bind_task, unbind_task
from channel_app_template.redaction import REDACTOR, redact_exception

__all__ = ["SafeTask", "redacted_retry"]


def redacted_retry(retry: Retry) -> Retry:
    """``retry`` with its message and the exception it carries redacted."""
    exc: Any = retry.exc
    if isinstance(exc, BaseException):
        exc = redact_exception(exc)
    elif retry.excs:
        exc = REDACTOR.redact(str(retry.excs))
    message = REDACTOR.redact(retry.message) if isinstance(retry.message, str) else retry.message
    if exc is retry.exc and message == retry.message:
        return retry
    return Retry(message, exc, retry.when, is_eager=retry.is_eager, sig=retry.sig)


class SafeTask(Task):  # type: ignore[misc]  # Celery is untyped
    """Redacts what a task returns, raises, reports as progress and sends as events, and
    makes every log line of the run carry the task's name and id."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = bind_task(self.name, str(self.request.id or "-"))
        replacement: BaseException | None = None
        try:
            result = super().__call__(*args, **kwargs)
        except (Ignore, Reject):
            raise
        except Retry as retry:
            replacement = redacted_retry(retry)
            if replacement is retry:
                raise
        except Exception as error:
            replacement = redact_exception(error)
            if replacement is error:
                raise
        else:
            return REDACTOR.scrub(result)
        finally:
            unbind_task(token)
        # Raised outside the ``except`` block, so the original (with its secret) does not
        # become the replacement's implicit context.
        raise replacement

    def update_state(
        self, task_id: str | None = None, state: str | None = None, meta: Any = None, **kwargs: Any
    ) -> Any:
        return super().update_state(task_id, state, REDACTOR.scrub(meta), **kwargs)

    def send_event(
        self, type_: str, retry: bool = True, retry_policy: Any = None, **fields: Any
    ) -> Any:
        return super().send_event(
            type_, retry=retry, retry_policy=retry_policy, **REDACTOR.scrub(fields)
        )
