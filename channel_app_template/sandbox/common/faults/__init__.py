"""Fault injection: the simulators misbehave on purpose, by rules set at start-up or at run time.

Implemented as a pure ASGI middleware in front of the app, so it can close the TCP connection,
rewrite a request before the app sees it, and reshape or stream an answer after. Only ``/api/``
paths are affected; ``/_sandbox/`` stays reliable so tests can always inspect and reconfigure.
With a ``seed`` every ``rate`` decision comes from one seeded RNG, so the same request sequence
meets the same faults.

Rules are evaluated in order for each request whose path matches their ``pattern`` (a regex
searched in the path) and whose method is in ``methods`` (all when unset):

* transport, stacking: ``delay`` adds ``delay_ms`` before the answer; ``trickle`` sends the
  answer's body at ``bytes_per_second``;
* shaping, stacking (see :mod:`~channel_app_template.sandbox.common.shaping`):
  ``ignore_page``, ``repeat_next``, ``empty_page``, ``wrong_shape``, ``drop_field``,
  ``set_field``, ``huge_body``, ``extra_rows``;
* terminal, the first one ends the evaluation: ``error``, ``drop``, ``lost_response``, ``slow``.

``fired`` counts the requests a rule matched; ``times`` stops a rule after that many.

By role: one rule and its checks (``_rule``), reading rules from input (``_parse``), the
state and the per-request decision (``_config``), the terminal answers (``_terminal``), the
``trickle`` throttle (``_throttle``) and the middleware that applies them (``_middleware``).
"""

from __future__ import annotations

from ._config import FaultConfig, Plan
from ._middleware import FaultMiddleware
from ._parse import parse_rule_flag
from ._rule import (
    ACTIONS,
    ERROR_BODIES,
    SHAPING,
    STACKING,
    TERMINAL,
    WRITE_METHODS,
    FaultRule,
)
from ._terminal import ConnectionDropped, drf_error_body

__all__ = [
    "ACTIONS",
    "ERROR_BODIES",
    "SHAPING",
    "STACKING",
    "TERMINAL",
    "WRITE_METHODS",
    "ConnectionDropped",
    "FaultConfig",
    "FaultMiddleware",
    "FaultRule",
    "Plan",
    "drf_error_body",
    "parse_rule_flag",
]
