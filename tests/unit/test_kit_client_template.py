"""The scaffolded channel's ``client.py`` as ``channel-app new-channel`` writes it, run against
a scripted loopback marketplace: it stands on the framework's transport (retries, errors
naming the marketplace, guarded paging), and keeps the methods the integration calls."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import SecretStr

from channel_app_template.errors import ConfigurationError, NotFoundError, RetryLater, RunError
from channel_app_template.kit.scaffold import render
from channel_app_template.transport import RetryPolicy
from tests.support.fake_omnitron import FakeOmnitron, Reply, Seen, running_fake


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


@pytest.fixture
def module(tmp_path: Path) -> Iterator[ModuleType]:
    """``channels/bazaar/client.py`` rendered by the scaffold and imported from a file."""
    source = render("bazaar")["channels/bazaar/client.py"]
    path = tmp_path / "bazaar_client.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bazaar_client_under_test", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    try:
        spec.loader.exec_module(loaded)
        yield loaded
    finally:
        del sys.modules[spec.name]


def make(module: ModuleType, fake: FakeOmnitron, **options: Any) -> Any:
    options.setdefault("retry", RetryPolicy(max_attempts=3, backoff_base=0.01, max_elapsed=30))
    sleeps: list[float] = []
    return module.BazaarClient(fake.url, SecretStr("bz-key"), 5.0, sleep=sleeps.append, **options)


def test_a_transient_failure_is_retried(module: ModuleType, fake: FakeOmnitron) -> None:
    answers = iter([Reply(503, {}), Reply(200, {"ok": True})])
    fake.responder = lambda seen: next(answers)
    client = make(module, fake)
    assert client.request("GET", "/things") == {"ok": True}
    assert [seen.path for seen in fake.seen] == ["/things", "/things"]
    assert fake.seen[0].headers["Authorization"] == "Bearer bz-key"
    client.close()


def test_errors_name_the_marketplace_and_the_path_but_no_secret(
    module: ModuleType, fake: FakeOmnitron
) -> None:
    fake.responder = lambda seen: Reply(404, {"detail": "no"})
    with pytest.raises(NotFoundError) as caught:
        make(module, fake).request("GET", "/orders/1", params={"email": "buyer@example.com"})
    assert str(caught.value) == "Bazaar marketplace GET /orders/1: not found"
    fake.responder = lambda seen: Reply(503, {})
    with pytest.raises(RetryLater) as failed:
        make(module, fake).ping()
    assert "Bazaar marketplace" in str(failed.value) and "bz-key" not in str(failed.value)


def test_paging_cannot_loop(module: ModuleType, fake: FakeOmnitron) -> None:
    calls = [0]

    def responder(seen: Seen) -> Reply:
        calls[0] += 1
        if calls[0] > 30:
            return Reply(200, {"items": []})
        return Reply(200, {"items": [{"id": 1}], "next_offset": 0})

    fake.responder = responder
    with pytest.raises(RunError, match=r"^Bazaar marketplace GET /orders: "):
        list(make(module, fake).iter_items("/orders"))
    assert calls[0] == 1


def test_an_unconfigured_client_loads_and_fails_only_when_used(module: ModuleType) -> None:
    client = module.BazaarClient("", SecretStr(""))
    client.close()  # nothing was opened
    with pytest.raises(ConfigurationError, match="Bazaar marketplace: api_url is not configured"):
        client.ping()


def test_the_deployment_limits_can_be_passed(module: ModuleType) -> None:
    from channel_app_template.transport import Limits

    client = module.BazaarClient(
        "http://bazaar.test", SecretStr("k"), 7.0, limits=Limits(max_pages=9), deadline=11.0
    )
    assert client.http.limits.max_pages == 9
    assert client.http.timeouts.total == 11.0 and client.http.timeouts.read == 7.0
    client.close()
