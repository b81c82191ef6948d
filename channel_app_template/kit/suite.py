"""The conformance suite as pytest tests: one test per check, named after it.

``channel-app conformance MODULE`` runs this file with pytest. To run it yourself::

    CHANNEL_APP_CONFORMANCE_MODULE=channels.acme.integration \\
    CHANNEL_APP_CONFORMANCE_CONF='{"api_url": "https://sandbox.acme.example"}' \\
    pytest --pyargs channel_app_template.kit.suite -rs

(``CHANNEL_MODULE`` is used when ``CHANNEL_APP_CONFORMANCE_MODULE`` is not set.) Failed
checks fail with messages naming the command; unsupported or unreached commands are
skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from channel_app_template.kit.conformance import (
    CHECKS,
    ConformanceReport,
    conf_from_text,
    run_conformance,
)

MODULE_VARIABLE = "CHANNEL_APP_CONFORMANCE_MODULE"
CONF_VARIABLE = "CHANNEL_APP_CONFORMANCE_CONF"


@pytest.fixture(scope="module")
def conformance_report() -> Iterator[ConformanceReport]:
    module = os.environ.get(MODULE_VARIABLE) or os.environ.get("CHANNEL_MODULE")
    if not module:
        pytest.fail(f"set {MODULE_VARIABLE} (or CHANNEL_MODULE) to the channel module to check")
    yield run_conformance(module, conf_from_text(os.environ.get(CONF_VARIABLE)))


@pytest.mark.parametrize("check", CHECKS)
def test_conformance(conformance_report: ConformanceReport, check: str) -> None:
    result = conformance_report.results[check]
    if result.status == "failed":
        pytest.fail(result.reason, pytrace=False)
    if result.status == "skipped":
        pytest.skip(result.reason)
