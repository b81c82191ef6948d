"""An integration written against the old contract still works: the reference integration as
it was before the resource-shaped contract (``tests/fixtures/legacy_channel``: command names
as methods, aliases, ``extra`` dicts, the deprecated ``core.*`` import paths) passes the
conformance suite unchanged, and supports what the rewritten reference supports."""

from __future__ import annotations

import warnings

import pytest

from channel_app_template.channel import describe
from channel_app_template.channel.commands import COMMANDS
from channel_app_template.channel.reference.integration import ReferenceIntegration
from channel_app_template.kit.conformance import run_conformance

pytestmark = pytest.mark.integration

LEGACY = "tests.fixtures.legacy_channel"


def test_a_channel_written_with_the_old_names_and_paths_passes_conformance() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        report = run_conformance(LEGACY, announce=lambda text: None)
    assert report.ok, report.format()
    assert report.live
    for name, result in report.results.items():
        if name in COMMANDS and not result.skip_reason:  # supported: must have run
            assert result.status == "passed", f"{name}: {result.reason}\n{report.format()}"
    assert report.results["catalog_batches"].status == "passed"
    assert report.results["order_ingestion"].status == "passed"
    assert any("core.commands.ChannelIntegration moved" in str(w.message) for w in caught)

    from tests.fixtures.legacy_channel import ChannelIntegration as Legacy

    assert describe(Legacy)["supported"] == describe(ReferenceIntegration)["supported"]
    assert describe(Legacy)["unsupported"] == describe(ReferenceIntegration)["unsupported"]
