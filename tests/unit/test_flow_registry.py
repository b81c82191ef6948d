"""The flow registry (core/run/flows.py) is the one place a flow is declared: a flow added
there with one line is a Celery task, in beat's schedule (and overridable by
``BEAT_SCHEDULE``), a job with its lock, one of ``channel-app trigger``'s short names and in
the dev stack's intervals; README's task table lists exactly the registry's flows."""

from __future__ import annotations

import difflib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import docutils.core
import docutils.nodes
import pytest

from channel_app_template.core.run import flows
from channel_app_template.core.run.flows import FLOWS, MANUAL, Flow, Registry, Work, catalog
from channel_app_template.schedule_values import Interval
from tests.support.processes import REPO_ROOT
from tests.support.stack import clean_environ

TRIAL_LINE = '    Flow("trial_flow", catalog("stocks", "check"), 600, dev=7),\n'

# Run in a fresh interpreter, with the registry module replaced by the edited copy before
# anything imports it: what every generated place makes of the new line.
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("channel_app_template.core.run.flows", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)

from channel_app_template import tasks
from channel_app_template.celery_app import app
from channel_app_template.cli import build_parser
from channel_app_template.core.run.runner import JOBS
from channel_app_template.devstack.stack import DEMO_SCHEDULE
from channel_app_template.ops import trigger
from channel_app_template.processes import startup_checks
from channel_app_template.schedule import beat_schedule
from channel_app_template.settings import Role, SettingsError, load_settings

name = "channel_app_template.app.tasks.trial_flow"
override = '{"trial_flow": 30}'
try:
    load_settings(Role.BEAT, startup_checks(Role.BEAT), beat_schedule=override)
    refused = []
except SettingsError as error:
    refused = error.problems
print(json.dumps({
    "registered": name in app.tasks,
    "attribute": tasks.trial_flow.name,
    "default": beat_schedule(None).get("trial_flow"),
    "overridden": beat_schedule(override)["trial_flow"]["schedule"],
    "switched_off": "trial_flow" in beat_schedule('{"trial_flow": null}'),
    "override_refused": refused,
    "lock": JOBS["trial_flow"].lock_name,
    "short_name": "trial_flow" in trigger.SHORT_NAMES,
    "help": "trial_flow" in build_parser()._subparsers._group_actions[0].choices[
        "trigger"].format_help(),
    "dev": DEMO_SCHEDULE.get("trial_flow"),
}))
"""


def with_trial_line(source: str) -> str:
    """The registry's source with :data:`TRIAL_LINE` as its first declaration."""
    opening = "FLOWS = Registry(\n"
    assert source.count(opening) == 1
    return source.replace(opening, opening + TRIAL_LINE)


def test_a_flow_added_with_one_line_shows_up_everywhere(tmp_path: Path) -> None:
    original = Path(flows.__file__).read_text()
    edited = with_trial_line(original)
    changed = [
        line
        for line in difflib.unified_diff(original.splitlines(), edited.splitlines(), lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["+" + TRIAL_LINE.rstrip("\n")]  # one line, one file
    registry = tmp_path / "flows.py"
    registry.write_text(edited)

    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(registry)],
        env={**clean_environ(), "PYTHONPATH": str(REPO_ROOT)},
        cwd=tmp_path,  # no developer .env
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["registered"] is True
    assert seen["attribute"] == "channel_app_template.app.tasks.trial_flow"
    assert seen["default"] == {
        "task": "channel_app_template.app.tasks.trial_flow",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    }
    assert seen["overridden"] == 30.0
    assert seen["switched_off"] is False
    assert seen["override_refused"] == []
    assert seen["lock"] == "catalog:productstock"  # a stock flow shares the stocks' lock
    assert seen["short_name"] is True and seen["help"] is True
    assert seen["dev"] == 7


def test_without_the_line_the_trial_flow_is_unknown_everywhere() -> None:
    """The control for the test above: nothing else declares it."""
    from channel_app_template.devstack.stack import DEMO_SCHEDULE
    from channel_app_template.ops import trigger
    from channel_app_template.processes import startup_checks
    from channel_app_template.schedule import ScheduleError, beat_schedule
    from channel_app_template.settings import Role, SettingsError, load_settings

    assert "trial_flow" not in FLOWS
    with pytest.raises(ScheduleError, match="unknown task 'trial_flow'"):
        beat_schedule('{"trial_flow": 30}')
    with pytest.raises(SettingsError, match="unknown task 'trial_flow'"):
        load_settings(Role.BEAT, startup_checks(Role.BEAT), beat_schedule='{"trial_flow": 30}')
    assert "trial_flow" not in trigger.SHORT_NAMES
    assert "trial_flow" not in DEMO_SCHEDULE


def test_every_flow_is_a_task_and_every_task_a_flow() -> None:
    from channel_app_template import tasks
    from channel_app_template.celery_app import app
    from channel_app_template.core.run.runner import JOBS

    ours = {name for name in app.tasks if name.startswith(flows.TASK_PREFIX)}
    assert ours == {flow.task_name for flow in FLOWS}
    for flow in FLOWS:
        assert getattr(tasks, flow.name).name == flow.task_name
    tools = {flow.name for flow in FLOWS if flow.runs.work is Work.TOOL}
    assert set(tasks.TOOLS) == tools  # a tool's function without its line would never run
    assert set(JOBS) == set(FLOWS.names) - tools


def test_every_process_checks_the_names_beat_schedule_uses() -> None:
    from channel_app_template.processes import startup_checks
    from channel_app_template.schedule import unknown_task_problems
    from channel_app_template.settings import Role

    for role in Role:
        assert unknown_task_problems in startup_checks(role), role


def test_settings_no_longer_know_the_task_names() -> None:
    """The bottom layer checks the shape and the values; the names are the registry's."""
    from channel_app_template.settings import Role, load_settings

    settings = load_settings(Role.BEAT, beat_schedule='{"no_such_flow": 30}')
    assert settings.beat_schedule == '{"no_such_flow": 30}'


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        ((Flow("a", catalog("stocks", "check"), 0),), "a must be seconds"),
        ((Flow("a", catalog("stocks", "check"), "every minute"),), "a must be seconds"),
        ((Flow("a", catalog("stocks", "check"), 60, dev=0.5),), "a (dev) must be seconds"),
        ((Flow("a-b", catalog("stocks", "check"), 60),), "is not a Python identifier"),
        ((Flow("a", catalog("stocks", "check"), 60),) * 2, "a: declared 2 times"),
    ],
)
def test_a_bad_declaration_fails_when_the_registry_is_built(
    declared: tuple[Flow, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match="flow registry") as caught:
        Registry(*declared)
    assert problem in str(caught.value)


def test_trigger_suggests_the_flow_a_mistyped_short_name_meant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from channel_app_template.cli import build_parser
    from channel_app_template.ops import trigger
    from channel_app_template.ops.flower_api import FlowerClient, FlowerNotFound

    def not_found(*args: Any, **kwargs: Any) -> Any:
        raise FlowerNotFound("404")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "ops:ops-password-1")
    monkeypatch.setattr(FlowerClient, "async_apply", not_found)
    err = io.StringIO()
    args = build_parser().parse_args(["trigger", "fetch_order"])
    assert trigger.run_trigger(args, io.StringIO(), err) == trigger.EXIT_REFUSED
    assert "did you mean 'fetch_orders'?" in err.getvalue()
    assert flows.TASK_PREFIX in err.getvalue()


# --- README's "Tasks and schedule" table ---------------------------------------------------


def in_words(schedule: Interval) -> str:
    """How README's table says a default schedule."""
    if schedule is MANUAL:
        return "manual"
    if isinstance(schedule, str):
        minute, hour, *rest = schedule.split()
        daily = rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()
        return "daily" if daily else f"``{schedule}``"
    for unit, seconds in (("h", 3600), ("min", 60)):
        if schedule % seconds == 0:
            return f"{int(schedule // seconds)} {unit}"
    return f"{schedule:g} s"


def readme_task_rows() -> list[tuple[list[str], str]]:
    """(task names, default) of each row of the table in section "Tasks and schedule"."""
    readme = (REPO_ROOT / "README.rst").read_text()
    tree = docutils.core.publish_doctree(readme, settings_overrides={"report_level": 5})
    [section] = [
        node
        for node in tree.findall(docutils.nodes.section)
        if node.next_node(docutils.nodes.title).astext() == "Tasks and schedule"
    ]
    [table] = list(section.findall(docutils.nodes.table))
    body = table.next_node(docutils.nodes.tbody)
    assert body is not None
    rows = []
    for row in body.findall(docutils.nodes.row):
        cells = list(row.findall(docutils.nodes.entry))
        names = [literal.astext() for literal in cells[0].findall(docutils.nodes.literal)]
        rows.append((names, cells[-1].astext().strip()))
    return rows


def test_readme_lists_exactly_the_registry_flows_with_their_default_schedules() -> None:
    rows = readme_task_rows()
    listed = [name for names, _ in rows for name in names]
    assert sorted(listed) == sorted(FLOWS.names), "README.rst's task table and the registry differ"
    wrong = [
        (name, default, in_words(FLOWS[name].schedule))
        for names, default in rows
        for name in names
        if default != in_words(FLOWS[name].schedule)
    ]
    assert not wrong, f"README.rst says (task, default, registry): {wrong}"
