"""Each process refuses to start on bad configuration, listing every problem, no secret."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest

from tests.support.processes import REPO_ROOT
from tests.support.stack import app_env, clean_environ

pytestmark = pytest.mark.integration
SECRET = "s3cret-value-never-shown"


def run(
    command: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        cwd=tempfile.mkdtemp(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_web_lists_every_problem() -> None:
    env = clean_environ()
    env.update(
        BROKER_PORT="port",
        PROXY_READ_TIMEOUT="-1",
        FLOWER_READONLY_AUTH=f"viewer:{SECRET}",
        BROKER_URL=f"amqp://u:{SECRET}@h//",
    )
    result = run(
        [sys.executable, "-m", "uvicorn", "channel_app_template.api.main:app", "--port", "1"], env
    )
    assert result.returncode == 2
    for name in ("BROKER_PORT", "PROXY_READ_TIMEOUT", "FLOWER_BASIC_AUTH", "BROKER_URL"):
        assert name in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_flower_refuses_to_run_without_auth() -> None:
    env = clean_environ()
    wrapped = run([sys.executable, "-m", "channel_app_template.cli", "flower"], env)
    assert wrapped.returncode == 2
    assert "FLOWER_BASIC_AUTH" in wrapped.stderr
    direct = run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "channel_app_template.celery_app",
            "flower",
            "--port=1",
        ],
        env,
    )
    assert direct.returncode == 2
    assert "FLOWER_BASIC_AUTH" in direct.stderr


def test_worker_refuses_without_omnitron_settings() -> None:
    env = app_env("redis://127.0.0.1:9/0")
    for name in ("OMNITRON_URL", "OMNITRON_PASSWORD", "OMNITRON_CATALOG_ID"):
        del env[name]
    env["OMNITRON_CHANNEL_ID"] = "zero"
    result = run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "channel_app_template.celery_app",
            "worker",
            "--pool",
            "solo",
        ],
        env,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    for name in ("OMNITRON_URL", "OMNITRON_PASSWORD", "OMNITRON_CATALOG_ID", "OMNITRON_CHANNEL_ID"):
        assert name in result.stderr


def test_config_command_reports_each_role() -> None:
    env = clean_environ()
    env["FLOWER_BASIC_AUTH"] = f"admin:{SECRET}"
    result = run([sys.executable, "-m", "channel_app_template.cli", "config"], env)
    assert result.returncode == 2
    assert "web: configuration OK" in result.stdout
    assert "beat: configuration OK" in result.stdout
    assert "worker process" in result.stderr
    assert SECRET not in result.stdout + result.stderr


# --- The literal Procfile lines, with one invalid value of every kind ------------------------

ODD_SECRET = "Xq8Vz2Lk7Pw3Mn"


def procfile_lines() -> dict[str, str]:
    lines = {}
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            lines[name.strip()] = command.strip()
    return lines


def run_procfile_line(name: str, env: dict[str, str], cwd: str) -> subprocess.CompletedProcess[str]:
    """``name``'s command exactly as the Procfile has it, through a shell like honcho's."""
    import os

    bin_dir = os.path.dirname(sys.executable)
    full = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        ["sh", "-c", procfile_lines()[name]],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_piece_of(secret: str, text: str) -> None:
    pieces = {secret[i : i + 4] for i in range(len(secret) - 3)}
    leaked = [piece for piece in pieces if piece in text]
    assert not leaked, (leaked, text)


BAD_OF_EVERY_KIND = {
    "WEB_PORT": "99999",  # port
    "BROKER_URL": f"redis://:{ODD_SECRET}@redis.internal:6379/abc",  # URL
    "BEAT_SCHEDULE": '{"check_stocks": Infinity, "fetch_orders": 0.001}',  # intervals
    "OMNITRON_READ_TIMEOUT": "1e300",  # timeout
    "SENTRY_DSN": f"https://{ODD_SECRET}@sentry.example.com",  # DSN without project
    "FLOWER_BASIC_AUTH": f"{ODD_SECRET}:admin",  # credentials the wrong way round
}


@pytest.mark.parametrize("process", ["web", "worker", "beat", "flower"])
def test_every_procfile_process_refuses_bad_values_of_every_kind(process: str) -> None:
    env = app_env("redis://127.0.0.1:9/0")
    del env["BROKER_URL"]
    env.update(BAD_OF_EVERY_KIND)
    env["BEAT_SCHEDULE_FILE"] = f"{tempfile.mkdtemp()}/schedule"
    result = run_procfile_line(process, env, tempfile.mkdtemp())
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    for name in BAD_OF_EVERY_KIND:
        if name == "WEB_PORT" and process != "web":
            continue  # the Procfile gives WEB_PORT to uvicorn only; others parse it too
        assert name in result.stderr, (name, result.stderr)
    assert "Traceback" not in output
    assert_no_piece_of(ODD_SECRET, output)


def test_worker_and_beat_refuse_integration_modules_that_do_not_load() -> None:
    env = app_env("redis://127.0.0.1:9/0")
    env.update(
        CHANNEL_MODULE="no_such_package.integration",
        OMNITRON_MODULE="channel_app_template.errors",  # imports, has no integration
        OMNITRON_CONNECT_TIMEOUT="inf",
        BEAT_SCHEDULE_FILE=f"{tempfile.mkdtemp()}/schedule",
    )
    for process in ("worker", "beat"):
        result = run_procfile_line(process, env, tempfile.mkdtemp())
        assert result.returncode == 2, result.stderr[-3000:]
        assert "CHANNEL_MODULE=no_such_package.integration: no such module" in result.stderr
        assert "OMNITRON_MODULE=channel_app_template.errors: the module has no" in (result.stderr)
        assert "OMNITRON_CONNECT_TIMEOUT" in result.stderr  # listed with the rest
        assert "Traceback" not in result.stderr
    config = run([sys.executable, "-m", "channel_app_template.cli", "config"], env)
    assert config.returncode == 2
    assert "no_such_package.integration: no such module" in config.stderr
    assert "web: configuration OK" not in config.stdout  # the timeout is broken for all


def test_a_scaffolded_channel_that_is_not_installed_says_how_to_install_it() -> None:
    from pathlib import Path

    project = Path(tempfile.mkdtemp())
    package = project / "channels" / "bazaar"
    package.mkdir(parents=True)
    (project / "channels" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "integration.py").write_text("ChannelIntegration = None\n")
    # PYTHONPATH is the repository (the code under test), not the project directory.
    env = app_env("redis://127.0.0.1:9/0", CHANNEL_MODULE="channels.bazaar.integration")
    import os

    channel_app = os.path.join(os.path.dirname(sys.executable), "channel-app")
    result = subprocess.run(
        [channel_app, "config", "--role", "worker"],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CHANNEL_MODULE=channels.bazaar.integration: not installed" in result.stderr
    assert "./channels/bazaar/integration.py is in the current directory" in result.stderr
    assert "pip install -e ." in result.stderr
