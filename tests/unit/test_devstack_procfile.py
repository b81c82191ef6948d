"""``channel-app dev`` runs the Procfile's lines as honcho does: read alike, run through
``sh -c`` untouched, reached only through the environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from honcho.environ import parse_procfile
from hypothesis import given, strategies as st

from channel_app_template.devstack.procfile import (
    MAX_PROCESSES,
    MAX_PROCFILE_BYTES,
    ProcfileError,
    read_procfile,
    shell_command,
)
from channel_app_template.devstack.stack import DevOptions, app_processes, plan
from tests.support.dev_stack import project_with_procfile
from tests.support.processes import REPO_ROOT, free_port

NAMES = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
COMMANDS = st.text(
    st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=40
).filter(lambda c: c.strip() and c == c.lstrip())
JUNK = st.sampled_from(["", "# a comment", "   ", "not a process line", ":x", "web : spaced"])


@given(
    st.lists(st.tuples(NAMES, COMMANDS), min_size=1, max_size=8, unique_by=lambda t: t[0]),
    st.lists(JUNK, max_size=4),
)
def test_read_like_honcho(processes: list[tuple[str, str]], junk: list[str]) -> None:
    lines = [f"{name}: {command}" for name, command in processes]
    text = "\n".join(junk[: len(junk) // 2] + lines + junk[len(junk) // 2 :]) + "\n"
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"Procfile-{os.getpid()}"
    path.write_text(text)
    try:
        ours = [(p.name, p.command) for p in read_procfile(path)]
    finally:
        path.unlink()
    assert ours == list(parse_procfile(text).processes.items())


def test_the_repositorys_procfile_reads_as_honcho_reads_it() -> None:
    text = (REPO_ROOT / "Procfile").read_text()
    ours = [(p.name, p.command) for p in read_procfile(REPO_ROOT / "Procfile")]
    assert ours == list(parse_procfile(text).processes.items())
    assert [name for name, _ in ours][:4] == ["web", "worker", "beat", "flower"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "no Procfile at"),
        ("# nothing here\n", "no 'name: command' line"),
        ("web: a\nweb: b\n", "'web' is defined twice"),
        ("".join(f"p{i}: true\n" for i in range(MAX_PROCESSES + 1)), "runs at most"),
        ("web: " + "x" * MAX_PROCFILE_BYTES + "\n", "a Procfile is limited to"),
        (b"web: \xff\n", "as UTF-8 text"),
    ],
)
def test_a_bad_procfile_is_refused_saying_why(
    tmp_path: Path, text: str | bytes | None, words: str
) -> None:
    path = tmp_path / "Procfile"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(ProcfileError, match=words):
        read_procfile(path)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("BROKER_", "OMNITRON_", "FLOWER_", "BEAT_", "CHANNEL_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return project_with_procfile(tmp_path)


def test_dev_runs_each_line_through_sh_as_written(project: Path) -> None:
    dev = plan(DevOptions(web_port=free_port()), {"PATH": "/usr/bin:/bin"}, project)
    specs = app_processes(dev)
    lines = read_procfile(project / "Procfile")
    assert [spec.command for spec, _ in specs] == [shell_command(p) for p in lines]
    assert [spec.command[:2] for spec, _ in specs] == [["/bin/sh", "-c"]] * len(lines)
    assert {spec.cwd for spec, _ in specs} == {project}  # where the Procfile is
    assert dict((spec.name, port) for spec, port in specs) == {
        "web": dev.web_port,
        "worker": None,
        "beat": None,
        "flower": dev.flower_port,
    }


def test_what_dev_changes_reaches_the_lines_through_the_shell(project: Path) -> None:
    """The Procfile's ``${VAR:-default}`` expand, in ``sh``, to what ``dev`` decided."""
    dev = plan(
        DevOptions(web_port=free_port(), host="127.0.0.1"), {"PATH": "/usr/bin:/bin"}, project
    )
    env = {**os.environ, **dev.env}
    echoed = subprocess.run(
        ["/bin/sh", "-c", "echo ${WEB_HOST:-0.0.0.0} ${WEB_PORT:-8008} ${BEAT_SCHEDULE_FILE:-x}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert echoed == ["127.0.0.1", str(dev.web_port), str(dev.state_dir / "celerybeat-schedule")]
    assert env["FLOWER_PORT"] == str(dev.flower_port) and env["FLOWER_ADDRESS"] == "127.0.0.1"
    # The Procfile's console scripts are those beside the running interpreter.
    first = env["PATH"].split(os.pathsep)[0]
    assert (Path(first) / "celery").exists() and (Path(first) / "uvicorn").exists()


def test_dotenv_reaches_the_lines_below_the_environment(project: Path) -> None:
    (project / ".env").write_text("EXTRA_FLAG=from-dotenv\nSHARED=from-dotenv\n")
    environ = {"PATH": "/usr/bin:/bin", "SHARED": "from-environment"}
    dev = plan(DevOptions(web_port=free_port()), environ, project)
    assert dev.env["EXTRA_FLAG"] == "from-dotenv"
    assert "SHARED" not in dev.env  # the environment's own value wins, as for the app


def test_web_port_comes_from_dotenv_when_not_given(project: Path) -> None:
    port = free_port()
    (project / ".env").write_text(f"WEB_PORT={port}\n")
    assert plan(DevOptions(), {"PATH": "/usr/bin:/bin"}, project).web_port == port
    (project / ".env").write_text("WEB_PORT=http\n")
    with pytest.raises(ValueError, match="WEB_PORT='http' is not a port"):
        plan(DevOptions(), {"PATH": "/usr/bin:/bin"}, project)


def test_without_a_procfile_dev_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(ProcfileError, match="run channel-app dev in the project's root"):
        plan(DevOptions(web_port=free_port()), {"PATH": "/usr/bin:/bin"}, tmp_path)
