"""An integrator's ``channels/NAME/`` is importable wherever the Procfile's console
scripts run: after ``build.sh`` (a copy installed into site-packages) and after an
editable install, even for a channel created after that install.

Console scripts (``celery``, ``channel-app``) put their own ``bin`` directory first on
``sys.path``, not the working directory; ``python -I`` does the same for ``-c`` code, so
an import that works here works for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.deploy import copy_project, fresh_venv, run, venv_env

pytestmark = pytest.mark.integration

CHANNEL = '"""A stand-in for what channel-app new-channel writes."""\nNAME = "bazaar"\n'
PROBE = (
    "import json, channels.bazaar.integration as m; "
    "print(json.dumps({'name': m.NAME, 'file': m.__file__}))"
)


def write_channel(project: Path) -> None:
    package = project / "channels" / "bazaar"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "integration.py").write_text(CHANNEL)


def probe(bin_dir: Path, cwd: Path) -> dict[str, str]:
    result = run([str(bin_dir / "python"), "-I", "-c", PROBE], cwd=cwd, env=venv_env(bin_dir))
    found: dict[str, str] = json.loads(result.stdout)
    return found


@pytest.mark.slow  # build.sh downloads every locked wheel: about a minute
def test_build_sh_installs_the_integrators_channels(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "app")
    write_channel(project)  # committed before the ACC build, as a real channel is
    bin_dir = fresh_venv(tmp_path / "venv")
    run(["sh", "build.sh"], cwd=project, env=venv_env(bin_dir))

    # From the app directory, as ACC starts the Procfile, and from anywhere else.
    for cwd in (project, tmp_path):
        found = probe(bin_dir, cwd)
        assert found["name"] == "bazaar"
        assert Path(found["file"]).is_relative_to(tmp_path / "venv"), found


def test_editable_install_finds_a_channel_created_after_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "app")
    bin_dir = fresh_venv(tmp_path / "venv")
    env = venv_env(bin_dir)
    run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-e", "."],
        cwd=project,
        env=env,
    )
    write_channel(project)  # new-channel after `pip install -e .`: no reinstall

    found = probe(bin_dir, tmp_path)
    assert found["name"] == "bazaar"
    assert Path(found["file"]) == project / "channels" / "bazaar" / "integration.py"
