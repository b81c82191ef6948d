"""``channel-app check`` against real services: private Redis (with a password), the Omnitron
simulator and the reference marketplace, each broken in turn.

The command runs as a subprocess with an explicit environment, as an operator would run it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import MemoryTokenCache
from tests.support.marketplace import MarketplaceSim, marketplace_server
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import REPO_ROOT, free_port, redis_server
from tests.support.stack import clean_environ

pytestmark = pytest.mark.integration

BROKER_PASSWORD = "broker-check-secret-1"
FLOWER_PASSWORD = "flower-check-secret-1"
READONLY_PASSWORD = "viewer-check-secret-1"


@dataclass
class Services:
    omnitron: OmnitronSim
    market: MarketplaceSim
    env: dict[str, str]
    workdir: Path

    def set_conf(self, **conf: str) -> None:
        client = OmnitronClient(
            f"{self.omnitron.url}/", "sandbox", "sandbox", 1, 1, token_cache=MemoryTokenCache()
        )
        with client:
            client.channel.update(
                {
                    "conf": {
                        "remote_id_attribute": "sku",
                        "api_url": self.market.url,
                        "api_key": self.market.api_key,
                        **conf,
                    }
                }
            )


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    workdir = Path(tempfile.mkdtemp(prefix="cat-check-"))
    with (
        redis_server(password=BROKER_PASSWORD) as redis,
        omnitron_simulator() as omnitron,
        marketplace_server() as market,
    ):
        env = clean_environ()
        env.update(
            {
                "BROKER_URL": f"redis://:{BROKER_PASSWORD}@127.0.0.1:{redis.port}/0",
                "OMNITRON_URL": f"{omnitron.url}/",
                "OMNITRON_USERNAME": "sandbox",
                "OMNITRON_PASSWORD": "sandbox",
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
                "FLOWER_BASIC_AUTH": f"admin:{FLOWER_PASSWORD}",
                "FLOWER_READONLY_AUTH": f"viewer:{READONLY_PASSWORD}",
                "PYTHONPATH": str(REPO_ROOT),
            }
        )
        found = Services(omnitron, market, env, workdir)
        found.set_conf()
        yield found


def check(services: Services, *args: str, **env: str) -> tuple[int, str, float]:
    """Run ``channel-app check``; (exit code, stdout + stderr, seconds)."""
    full_env = {**services.env, **env}
    for name in [k for k, v in full_env.items() if v == "<unset>"]:
        del full_env[name]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "channel_app_template.cli", "check", *args],
        env=full_env,
        cwd=services.workdir,  # no stray .env from the repository
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def assert_no_secrets(output: str, *extra: str) -> None:
    for secret in (BROKER_PASSWORD, FLOWER_PASSWORD, READONLY_PASSWORD, "sandbox-key", *extra):
        assert secret not in output


def lines_with(output: str, mark: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(mark)]


def test_all_green_against_healthy_services(services: Services) -> None:
    code, output, _ = check(services)
    assert code == 0, output
    assert lines_with(output, "✗") == []
    ticks = lines_with(output, "✓")
    for expected in (
        "✓ Settings: valid for web, worker, beat, flower",
        "✓ Broker: Redis at redis://:***@127.0.0.1",
        "✓ Omnitron: logged in as 'sandbox'",
        "✓ Omnitron: channel 1",
        "✓ Omnitron: catalog 1",
        "✓ Channel: ReferenceIntegration.check_connection()",
    ):
        assert any(line.startswith(expected) for line in ticks), (expected, output)
    assert output.rstrip().endswith("All checks passed.")
    assert_no_secrets(output)


def test_bad_settings_are_listed_once_each_with_the_variable(services: Services) -> None:
    code, output, _ = check(
        services,
        OMNITRON_CHANNEL_ID="abc",
        OMNITRON_PASSWORD="<unset>",
        FLOWER_BASIC_AUTH="admin:short",
        CHANNEL_MODULE="no_such_package.channel",
    )
    assert code == 1, output
    problems = lines_with(output, "✗")
    assert any("OMNITRON_CHANNEL_ID" in p for p in problems), output
    assert any("OMNITRON_PASSWORD: required" in p and "worker" in p for p in problems), output
    assert any("FLOWER_BASIC_AUTH" in p and "at least 8 characters" in p for p in problems)
    assert any("CHANNEL_MODULE=no_such_package.channel: no such module" in p for p in problems), (
        output
    )
    # one line per problem, even though several roles share it
    assert len([p for p in problems if "OMNITRON_CHANNEL_ID" in p]) == 1
    assert "- Omnitron: not checked" in output
    assert "problems found." in output
    assert_no_secrets(output, "short")


def test_broker_down_and_wrong_broker_password(services: Services) -> None:
    port = free_port()
    code, output, seconds = check(services, BROKER_URL=f"redis://127.0.0.1:{port}/0")
    assert code == 1, output
    assert (
        f"✗ Broker: cannot reach Redis at redis://127.0.0.1:{port}/0 (connection refused): "
        "check BROKER_URL" in output
    ), output
    assert "✓ Omnitron: logged in" in output  # the other checks still ran
    assert seconds < 15

    redis_port = services.env["BROKER_URL"].rsplit(":", 1)[1].split("/")[0]
    wrong = "not-the-broker-password"
    code, output, _ = check(services, BROKER_URL=f"redis://:{wrong}@127.0.0.1:{redis_port}/0")
    assert code == 1, output
    assert "refused the password: check BROKER_URL" in output, output
    assert_no_secrets(output, wrong)


def test_omnitron_unreachable_fails_fast(services: Services) -> None:
    port = free_port()
    code, output, seconds = check(services, OMNITRON_URL=f"http://127.0.0.1:{port}/")
    assert code == 1, output
    assert (
        f"✗ Omnitron: cannot reach Omnitron at http://127.0.0.1:{port}/ (connection refused): "
        "check OMNITRON_URL" in output
    ), output
    assert "- Channel: connection not checked" in output
    assert seconds < 15


def test_omnitron_wrong_password(services: Services) -> None:
    wrong = "wrong-omnitron-password"
    code, output, _ = check(services, OMNITRON_PASSWORD=wrong)
    assert code == 1, output
    assert (
        f"✗ Omnitron: login refused for user 'sandbox' at {services.omnitron.url}/: "
        "check OMNITRON_USERNAME/OMNITRON_PASSWORD" in output
    ), output
    assert_no_secrets(output, wrong)


def test_omnitron_unknown_channel(services: Services) -> None:
    code, output, _ = check(services, OMNITRON_CHANNEL_ID="999")
    assert code == 1, output
    assert "✗ Omnitron: channel 999 not found" in output
    assert "check OMNITRON_CHANNEL_ID" in output


def test_channel_unreachable_or_refusing_the_key(services: Services) -> None:
    wrong_key = "wrong-marketplace-key-1"
    port = free_port()
    try:
        services.set_conf(api_key=wrong_key)
        code, output, _ = check(services)
        assert code == 1, output
        assert "✗ Channel: the marketplace at" in output
        assert "refused our credentials" in output
        assert "check the API key/credentials in channel 1's settings" in output
        assert_no_secrets(output, wrong_key)

        services.set_conf(api_url=f"http://127.0.0.1:{port}")
        code, output, seconds = check(services)
        assert code == 1, output
        assert (
            f"✗ Channel: cannot reach the marketplace at http://127.0.0.1:{port} "
            "(connection refused)" in output
        ), output
        assert seconds < 20
    finally:
        services.set_conf()


def test_channel_check_is_bounded_by_timeout(services: Services) -> None:
    """A marketplace that accepts connections but never answers costs --timeout, no more."""
    import socket

    with contextlib.closing(socket.socket()) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        try:
            services.set_conf(api_url=f"http://127.0.0.1:{port}")
            code, output, seconds = check(services, "--timeout", "2")
        finally:
            services.set_conf()
    assert code == 1, output
    assert "✗ Channel: ReferenceIntegration.check_connection() at" in output, output
    assert "did not finish (no answer within 2s)" in output
    assert seconds < 10
