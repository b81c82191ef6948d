"""The conformance suite as pytest tests: one test per check, named after it.

``channel-app conformance MODULE`` runs this file with pytest. To run it yourself::

    CHANNEL_APP_CONFORMANCE_MODULE=channels.acme.integration \\
    CHANNEL_APP_CONFORMANCE_CONF='{"api_url": "https://sandbox.acme.example"}' \\
    CHANNEL_APP_CONFORMANCE_YES=1 \\
    pytest --pyargs channel_app_template.kit.suite -rs

(``CHANNEL_MODULE`` is used when ``CHANNEL_APP_CONFORMANCE_MODULE`` is not set;
``CHANNEL_APP_CONFORMANCE_YES=1`` lets the run write what it announces to the marketplace
of that conf.) A channel's own tests (``channels/NAME/tests/``, written by
``channel-app new-channel``) call :func:`check` the same way. Failed checks fail with
messages naming the command; checks that exercised nothing are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable

import pytest

from channel_app_template.kit.conformance import (
    CHECKS,
    ConformanceReport,
    conf_from_text,
    run_conformance,
)
from channel_app_template.kit.plan import YES_VARIABLE

__all__ = ["CONF_VARIABLE", "MODULE_VARIABLE", "YES_VARIABLE", "check"]

MODULE_VARIABLE = "CHANNEL_APP_CONFORMANCE_MODULE"
CONF_VARIABLE = "CHANNEL_APP_CONFORMANCE_CONF"

_reports: dict[tuple[str, str], ConformanceReport] = {}


def check(module: str, name: str, config: pytest.Config | None = None) -> None:
    """Fail or skip as check ``name`` of ``module``'s report says (the suite runs once per
    module and conf in a pytest session). With ``config``, the write plan is shown on the
    terminal before the run writes, past pytest's output capture."""
    text = os.environ.get(CONF_VARIABLE) or ""
    if (module, text) not in _reports:
        try:
            conf = conf_from_text(text)
        except (OSError, ValueError) as error:
            pytest.fail(f"{CONF_VARIABLE} is not a JSON object or @file: {error}", pytrace=False)
        _reports[module, text] = run_conformance(module, conf, announce=_announcer(config))
    result = _reports[module, text].results[name]
    if result.status == "failed":
        pytest.fail(result.reason, pytrace=False)
    if result.status == "skipped":
        pytest.skip(result.reason)


def _announcer(config: pytest.Config | None) -> Callable[[str], None]:
    def announce(text: str) -> None:
        capture = config.pluginmanager.getplugin("capturemanager") if config else None
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(f"\n{text}", file=sys.stderr, flush=True)

    return announce


@pytest.mark.parametrize("name", CHECKS)
def test_conformance(name: str, pytestconfig: pytest.Config) -> None:
    module = os.environ.get(MODULE_VARIABLE) or os.environ.get("CHANNEL_MODULE")
    if not module:
        pytest.fail(f"set {MODULE_VARIABLE} (or CHANNEL_MODULE) to the channel module to check")
    check(module, name, pytestconfig)
