"""README.rst is what users read first: it must render, and its commands must be true."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import docutils.core
import docutils.utils

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.rst").read_text()


def test_readme_is_valid_restructuredtext() -> None:
    problems: list[str] = []

    class Collect:
        def write(self, text: str) -> None:
            problems.append(text)

    docutils.core.publish_doctree(
        README,
        settings_overrides={
            "report_level": docutils.utils.Reporter.WARNING_LEVEL,
            "halt_level": 5,
            "warning_stream": Collect(),
        },
    )
    assert not problems, "".join(problems)


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'pip install -e ".[dev]" && python -m pytest'
    assert f"\n    {command}\n" in README
    assert re.search(rf"^{re.escape(command)}$", ci, re.MULTILINE), ci


def test_every_setting_is_documented() -> None:
    from channel_app_template.settings import Settings

    missing = [
        name.upper() for name in Settings.model_fields if f"``{name.upper()}``" not in README
    ]
    assert not missing, f"settings not in README.rst: {missing}"


def test_every_task_is_documented() -> None:
    from channel_app_template.schedule import DEFAULT_SCHEDULE, MANUAL_ONLY

    for name in [*DEFAULT_SCHEDULE, *MANUAL_ONLY]:
        assert name in README, name


def test_console_script_exists() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["channel-app"] == "channel_app_template.cli:main"
