"""Each worker process gets a node name of its own unless its command line gives one."""

from __future__ import annotations

import pytest

from channel_app_template.celery_config import (
    NODENAME_VARIABLE,
    name_this_worker,
    worker_nodename,
)

PROCFILE_WORKER = [
    "celery",
    "-A",
    "channel_app_template.celery_app",
    "worker",
    "--loglevel",
    "INFO",
]


def test_the_procfile_worker_line_gets_a_name_with_its_pid() -> None:
    assert worker_nodename(PROCFILE_WORKER, {}, 4242) == "worker-4242@%h"


def test_python_m_celery_is_the_same_worker() -> None:
    argv = ["/venv/lib/celery/__main__.py", *PROCFILE_WORKER[1:]]
    assert worker_nodename(argv, {}, 7) == "worker-7@%h"


@pytest.mark.parametrize(
    "given", [["-n", "w1@%h"], ["--hostname", "w1@%h"], ["--hostname=w1@%h"], ["-nw1@%h"]]
)
def test_an_explicit_name_is_kept(given: list[str]) -> None:
    assert worker_nodename([*PROCFILE_WORKER, *given], {}, 1) is None


def test_a_name_from_the_environment_is_kept() -> None:
    assert worker_nodename(PROCFILE_WORKER, {NODENAME_VARIABLE: "mine@%h"}, 1) is None


@pytest.mark.parametrize("command", ["beat", "flower", "inspect"])
def test_other_celery_commands_are_left_alone(command: str) -> None:
    argv = ["celery", "-A", "channel_app_template.celery_app", command, "--loglevel", "INFO"]
    assert worker_nodename(argv, {}, 1) is None


def test_name_this_worker_sets_the_variable_click_reads() -> None:
    environ: dict[str, str] = {}
    name_this_worker(PROCFILE_WORKER, environ, 99)
    assert environ == {NODENAME_VARIABLE: "worker-99@%h"}
    name_this_worker(PROCFILE_WORKER, environ, 100)  # a name already there is kept
    assert environ == {NODENAME_VARIABLE: "worker-99@%h"}
