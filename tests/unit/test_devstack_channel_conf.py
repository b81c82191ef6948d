"""Where ``channel-app dev`` gets the channel's settings, and that it never gives an
integrator's channel the reference marketplace's."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channel_app_template.devstack import stack as stack_module
from channel_app_template.devstack.channel_conf import (
    GivenConf,
    choose_channel,
    load_channel_conf,
    started_marketplace,
)
from channel_app_template.devstack.stack import (
    DevOptions,
    apply_channel_choice,
    describe,
    infrastructure,
    plan,
)
from channel_app_template.kit.conformance import TestMarketplace
from channel_app_template.sandbox.common.channel_conf import MAX_CONF_BYTES
from tests.support.dev_stack import project_with_procfile
from tests.support.processes import free_port

REFERENCE = "channel_app_template.channel.reference.integration"
SECRET = "sk-live-0123456789"
CHANNEL = (
    "from channel_app_template.core.commands import ChannelIntegration as Base\n\n\n"
    "class ChannelIntegration(Base):\n"
    "    def check_connection(self):\n"
    "        return None\n"
)
HOOK = (
    "import contextlib\n"
    "from channel_app_template.kit.conformance import TestMarketplace\n\n"
    "events = []\n\n\n"
    "@contextlib.contextmanager\n"
    "def conformance_marketplace():\n"
    "    events.append('started')\n"
    "    try:\n"
    "        yield TestMarketplace({'api_url': 'http://127.0.0.1:9/shop', 'api_key': 'k'})\n"
    "    finally:\n"
    "        events.append('stopped')\n"
)


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path`` importable: ``plain`` (no hook) and ``hooked`` channels, forgotten after."""
    for name, text in (("plain", CHANNEL), ("hooked", CHANNEL + HOOK)):
        (tmp_path / f"{name}_shop.py").write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("plain_shop", "hooked_shop"):
            sys.modules.pop(name, None)
        importlib.invalidate_caches()


def test_channel_conf_inline_and_from_a_file(tmp_path: Path) -> None:
    assert load_channel_conf('{"api_url": "u", "api_key": "k"}') == GivenConf(
        {"api_url": "u", "api_key": "k"}, "--channel-conf"
    )
    path = tmp_path / "conf.json"
    path.write_text(json.dumps({"api_url": "u"}))
    given = load_channel_conf(f"@{path}")
    assert given.conf == {"api_url": "u"} and given.source == f"--channel-conf @{path}"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('{"api_key": "' + SECRET + '"', "not valid JSON (line 1"),
        (f'["{SECRET}"]', "must be a JSON object, not list"),
        ('{"api_key": NaN}', "not valid JSON"),
        ('{"k": "' + "x" * MAX_CONF_BYTES + '"}', "limited to"),
        ("@/nonexistent/conf.json", "cannot read the file"),
    ],
)
def test_a_bad_channel_conf_is_refused_without_echoing_it(value: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        load_channel_conf(value)
    assert words in str(raised.value)
    assert SECRET not in str(raised.value)


def test_the_choice_in_order(modules: Path) -> None:
    given = GivenConf({"api_url": "u"}, "--channel-conf")
    assert choose_channel(REFERENCE, None, True).kind == "reference"
    assert choose_channel(REFERENCE, given, True).kind == "given"  # a given conf always wins
    assert choose_channel("plain_shop", given, True).kind == "given"
    assert choose_channel("hooked_shop", None, True).kind == "hook"
    assert choose_channel("plain_shop", None, True).kind == "kept"
    broken = choose_channel("no_such_shop_module", None, True)
    assert broken.kind == "kept" and "No module named 'no_such_shop_module'" in broken.problem
    assert choose_channel("plain_shop", None, False).kind == "yours"
    with pytest.raises(ValueError, match="your own Omnitron"):
        choose_channel("plain_shop", given, False)


def test_a_failing_hook_stops_dev_saying_whose_hook(modules: Path) -> None:
    (modules / "failing_shop.py").write_text(
        CHANNEL + "\n\ndef conformance_marketplace():\n"
        "    raise RuntimeError('sandbox account expired')\n"
    )
    try:
        choice = choose_channel("failing_shop", None, True)
        with pytest.raises(RuntimeError) as raised, started_marketplace(choice):
            pass
        assert str(raised.value) == (
            "failing_shop.conformance_marketplace() failed: RuntimeError: sandbox account expired"
        )
    finally:
        sys.modules.pop("failing_shop", None)


def test_the_hook_runs_for_the_life_of_dev(modules: Path) -> None:
    choice = choose_channel("hooked_shop", None, True)
    events = importlib.import_module("hooked_shop").events
    with started_marketplace(choice) as market:
        assert isinstance(market, TestMarketplace) and events == ["started"]
    assert events == ["started", "stopped"]
    with started_marketplace(choose_channel(REFERENCE, None, True)) as nothing:
        assert nothing is None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("BROKER_", "OMNITRON_", "FLOWER_", "BEAT_", "CHANNEL_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return project_with_procfile(tmp_path / "project")


def test_only_the_reference_channel_gets_the_reference_marketplace(
    project: Path, modules: Path
) -> None:
    environ = {"PATH": "/usr/bin:/bin", "CHANNEL_MODULE": "plain_shop"}
    dev = plan(DevOptions(web_port=free_port()), environ, project)
    assert dev.simulators is not None and dev.simulators.market_port is None
    assert [spec.name for spec, _ in infrastructure(dev)] == ["valkey", "omnitron"]
    assert not any(line.startswith("marketplace (sim)") for line in describe(dev))
    reference = plan(DevOptions(web_port=free_port()), {"PATH": "/usr/bin:/bin"}, project)
    assert reference.channel.reference and reference.simulators is not None
    assert [spec.name for spec, _ in infrastructure(reference)][-1] == "market"


class FakeOmnitron:
    """The simulator's channel.conf, as ``write_channel_conf``/``read_channel_conf`` see it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, conf: dict[str, Any]) -> None:
        self.conf = conf
        self.writes: list[dict[str, Any]] = []
        monkeypatch.setattr(stack_module, "write_channel_conf", self.write)
        monkeypatch.setattr(stack_module, "read_channel_conf", lambda sims: dict(self.conf))

    def write(self, sims: Any, conf: dict[str, Any]) -> None:
        self.writes.append(dict(conf))
        self.conf = dict(conf)


def test_what_dev_writes_and_the_line_it_says(
    project: Path, modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = {"api_url": "http://127.0.0.1:8020", "api_key": "sandbox-key"}
    base = {"PATH": "/usr/bin:/bin"}

    omnitron = FakeOmnitron(monkeypatch, dict(old))
    dev = plan(DevOptions(web_port=free_port()), {**base, "CHANNEL_MODULE": "plain_shop"}, project)
    line = apply_channel_choice(dev, None)
    assert omnitron.writes == []  # never the reference marketplace's settings
    assert line.startswith("kept what the Omnitron simulator holds (keys: api_key, api_url)")
    assert "--channel-conf JSON|@file" in line and "conformance_marketplace() in plain_shop" in line

    omnitron = FakeOmnitron(monkeypatch, dict(old))
    given = GivenConf({"api_url": "https://shop.test", "api_key": SECRET}, "--channel-conf")
    options = DevOptions(web_port=free_port(), channel_conf=given)
    dev = plan(options, {**base, "CHANNEL_MODULE": "plain_shop"}, project)
    line = apply_channel_choice(dev, None)
    assert omnitron.writes == [given.conf]
    assert line == "--channel-conf (keys: api_key, api_url)" and SECRET not in line

    omnitron = FakeOmnitron(monkeypatch, dict(old))
    dev = plan(DevOptions(web_port=free_port()), {**base, "CHANNEL_MODULE": "hooked_shop"}, project)
    with started_marketplace(dev.channel) as market:
        line = apply_channel_choice(dev, market)
    assert omnitron.writes == [{"api_url": "http://127.0.0.1:9/shop", "api_key": "k"}]
    assert line == "hooked_shop.conformance_marketplace() (keys: api_key, api_url)"

    omnitron = FakeOmnitron(monkeypatch, {})
    dev = plan(DevOptions(web_port=free_port()), base, project)
    line = apply_channel_choice(dev, None)
    assert dev.simulators is not None
    assert omnitron.writes[0]["api_url"] == dev.simulators.market_url
    assert line == f"the reference marketplace simulator ({dev.simulators.market_url})"
