"""What ``channel-app dev`` decides to start, and the embedded broker behind it.

The rule that matters most: a configured broker (``BROKER_*`` in the environment or in
``.env``) is never shadowed by an embedded one.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import redis

from channel_app_template.devstack import broker as broker_module
from channel_app_template.devstack.broker import (
    DEFAULT_BROKER_PORT,
    broker_configured,
    first_free_port,
    valkey_binary,
)
from channel_app_template.devstack.stack import (
    DEMO_SCHEDULE,
    DevOptions,
    app_processes,
    infrastructure,
    plan,
)
from tests.support.dev_stack import project_with_procfile
from tests.support.processes import free_port, redis_server, redis_server_binary

CLEAN: dict[str, str] = {"PATH": os.environ.get("PATH", "")}


def options() -> DevOptions:
    """Defaults, but a web port nobody uses (8008 may be taken on a shared machine)."""
    return DevOptions(web_port=free_port())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (the repository's Procfile) with no settings of ours, in the
    environment or anywhere."""
    for name in list(os.environ):
        if name.upper().startswith(
            ("BROKER_", "OMNITRON_", "FLOWER_", "BEAT_", "MAIN_APP", "CHANNEL_", "WEB_")
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return project_with_procfile(tmp_path)


@pytest.fixture
def no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything even looks for the embedded binary."""

    def refuse() -> Path:
        raise AssertionError("the embedded broker was planned although a broker is configured")

    monkeypatch.setattr(broker_module, "valkey_binary", refuse)


def test_broker_configured_by_environment_or_dotenv() -> None:
    assert not broker_configured({}, {})
    assert not broker_configured({"BROKER_URL": ""}, {"OTHER": "x"})
    assert broker_configured({"BROKER_URL": "redis://h:1/0"}, {})
    assert broker_configured({"broker_host": "redis.local"}, {})
    assert broker_configured({}, {"BROKER_PORT": "6380"})
    assert broker_configured({}, {"BROKER_DATABASE_INDEX": "2"})


@pytest.mark.usefixtures("no_embedding")
def test_never_embedded_when_broker_url_is_set(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", "redis://127.0.0.1:6391/3")
    dev = plan(options(), {**CLEAN, "BROKER_URL": "redis://127.0.0.1:6391/3"}, project)
    assert dev.broker is None
    assert dev.broker_url == "redis://127.0.0.1:6391/3"
    assert "BROKER_URL" not in dev.env  # the children read the developer's own
    assert all(spec.name != "valkey" for spec, _ in infrastructure(dev))


@pytest.mark.usefixtures("no_embedding")
def test_never_embedded_when_dotenv_names_a_broker_host(project: Path) -> None:
    (project / ".env").write_text("BROKER_HOST=redis.internal\nBROKER_PORT=6400\n")
    dev = plan(options(), CLEAN, project)
    assert dev.broker is None
    assert dev.broker_url == "redis://redis.internal:6400/0"
    assert "BROKER_URL" not in dev.env


def test_embedded_when_nothing_is_configured(project: Path) -> None:
    dev = plan(options(), CLEAN, project)
    assert dev.broker is not None
    assert dev.broker.port >= DEFAULT_BROKER_PORT and dev.broker.port != 6379
    assert dev.env["BROKER_URL"] == f"redis://127.0.0.1:{dev.broker.port}/0"
    assert dev.broker.data_dir == project / "var" / "dev" / "valkey"
    command = dev.broker.command()
    assert command[0] == str(valkey_binary())
    assert command[command.index("--bind") + 1] == "127.0.0.1"
    # Simulators, their channel settings and the demo schedule come with it.
    assert dev.simulators is not None
    assert dev.env["OMNITRON_URL"] == dev.simulators.omnitron_url
    assert json.loads(dev.env["BEAT_SCHEDULE"]) == DEMO_SCHEDULE
    names = [spec.name for spec, _ in infrastructure(dev)]
    assert names == ["valkey", "omnitron", "market"]
    assert [spec.name for spec, _ in app_processes(dev)] == ["web", "worker", "beat", "flower"]


def test_own_omnitron_and_flower_login_are_kept(project: Path) -> None:
    environ = {
        **CLEAN,
        "OMNITRON_URL": "https://omnitron.example.com",
        "FLOWER_BASIC_AUTH": "me:my-own-password",
    }
    dev = plan(options(), environ, project)
    assert dev.simulators is None and dev.flower_login is None
    assert not {"OMNITRON_URL", "BEAT_SCHEDULE", "FLOWER_BASIC_AUTH"} & set(dev.env)
    assert [spec.name for spec, _ in infrastructure(dev)] == ["valkey"]


def test_demo_flower_password_is_generated_once_per_state_dir(project: Path) -> None:
    first = plan(options(), CLEAN, project)
    again = plan(options(), CLEAN, project)
    assert first.flower_login is not None and first.flower_login[0] == "admin"
    assert len(first.flower_login[1]) >= 8
    assert first.flower_login == again.flower_login
    assert (project / "var/dev/flower-password").stat().st_mode & 0o077 == 0
    assert first.env["FLOWER_URL"] == f"http://127.0.0.1:{first.flower_port}"


def test_first_free_port_skips_a_busy_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert first_free_port(port) != port


def test_a_busy_web_port_is_refused_before_anything_starts(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"port {port} is in use") as refused:
            plan(DevOptions(web_port=port), CLEAN, project)
    # What holds it is named: here, this very test process.
    assert f"by pid {os.getpid()} (" in str(refused.value), refused.value
    assert not (project / "var").exists()


def test_suite_falls_back_to_the_embedded_server_without_redis_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing at all on PATH
    assert redis_server_binary() == str(valkey_binary())
    assert redis_server_binary(embedded=True) == str(valkey_binary())


@pytest.mark.integration
@pytest.mark.parametrize("password", [None, "broker-secret-1"])
def test_redis_server_fixture_serves_from_the_embedded_binary(
    password: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with redis_server(password) as server:
        assert server.command[0] == str(valkey_binary())
        client = redis.Redis(port=server.port, password=password)
        try:
            assert client.ping()
            assert "valkey_version" in client.info("server")
        finally:
            client.close()
