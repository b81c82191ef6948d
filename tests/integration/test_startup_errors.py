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
