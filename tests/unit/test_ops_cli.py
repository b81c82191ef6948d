"""The operator commands' pieces without services: Flower API error mapping, task names,
progress rendering and the wait loop, the bounded check runner, credential defaults."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from channel_app_template.cli import build_parser
from channel_app_template.ops import check, flower_api, trigger
from channel_app_template.ops.flower_api import (
    FlowerAuthError,
    FlowerClient,
    FlowerForbidden,
    FlowerNotFound,
    FlowerUnavailable,
    TaskResult,
    full_task_name,
    short_task_name,
)

PASSWORD = "s3cret-password"


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> FlowerClient:
    client = FlowerClient("http://app.test/", "admin", SecretStr(PASSWORD))
    client._http = httpx.Client(
        transport=httpx.MockTransport(handler), auth=("admin", PASSWORD), timeout=5
    )
    return client


def answering(status: int, body: str = "", **headers: str) -> FlowerClient:
    return client_with(lambda request: httpx.Response(status, text=body, headers=headers))


def test_task_names() -> None:
    assert full_task_name("ping") == "channel_app_template.app.tasks.ping"
    assert full_task_name("tests.fail") == "tests.fail"
    assert short_task_name("channel_app_template.app.tasks.fetch_orders") == "fetch_orders"
    assert short_task_name(None) == "?"


@pytest.mark.parametrize(
    ("status", "body", "error_type", "words"),
    [
        (401, "Authentication required.", FlowerAuthError, "refused user 'admin' (401)"),
        (403, "Read-only users cannot change anything.", FlowerForbidden, "is read-only (403)"),
        (403, "Failed to shrink", FlowerForbidden, "Flower refused POST"),
        (404, "Unknown task 'x'", FlowerNotFound, "not found (404)"),
        (502, "Flower is unreachable.", FlowerUnavailable, "cannot reach Flower (502)"),
        (503, "busy", FlowerUnavailable, "(503)"),
        (504, "Flower did not answer in time.", FlowerUnavailable, "did not answer"),
    ],
)
def test_http_errors_become_clear_messages(
    status: int, body: str, error_type: type[Exception], words: str
) -> None:
    with pytest.raises(error_type) as caught:
        answering(status, body).async_apply("tests.add", [1, 2])
    assert words in str(caught.value)
    assert PASSWORD not in str(caught.value) + repr(answering(200))


def test_connection_errors_and_timeouts() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(
        FlowerUnavailable, match=r"cannot reach the web process at http://app\.test"
    ):
        client_with(refuse).worker_status()
    with pytest.raises(FlowerUnavailable, match=r"no answer from http://app\.test"):
        client_with(slow).worker_status()


def test_async_apply_and_result_shapes() -> None:
    seen: list[httpx.Request] = []

    def flower(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/flower/api/task/async-apply/"):
            return httpx.Response(200, json={"task-id": "abc", "state": "PENDING"})
        return httpx.Response(
            200, json={"task-id": "abc", "state": "PROGRESS", "result": {"done": 3, "total": 9}}
        )

    client = client_with(flower)
    sent = client.async_apply("channel_app_template.app.tasks.ping", [1], {"a": 2})
    assert sent.task_id == "abc"
    assert json.loads(seen[0].content) == {"args": [1], "kwargs": {"a": 2}}
    assert seen[0].url.path == "/flower/api/task/async-apply/channel_app_template.app.tasks.ping"
    assert seen[0].headers["authorization"].startswith("Basic ")
    result = client.result("abc")
    assert result.progress == (3, 9, None)
    assert not result.ready


def test_progress_line_on_a_terminal_and_off_it() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def progress(done: int) -> TaskResult:
        meta = {"task": "x", "step": 1, "done": done, "total": 10}
        return TaskResult("id", "PROGRESS", meta, True)

    screen = Tty()
    line = trigger.ProgressLine(screen, "channel_app_template.app.tasks.update_stocks")
    for done in (0, 5, 10):
        line.update(progress(done))
    line.finish()
    text = screen.getvalue()
    assert text.count("\r\x1b[K") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "update_stocks: PROGRESS 1 [############............] 5/10 (50%)" in text

    plain = io.StringIO()
    line = trigger.ProgressLine(plain, "t")
    for done in (5, 5, 10):
        line.update(progress(done))
    line.update(TaskResult("id", "SUCCESS", {"ok": 1}, True))
    shown = plain.getvalue().splitlines()
    assert [s.split(" (")[0] for s in shown] == [
        "t: PROGRESS 1 [############............] 5/10",
        "t: PROGRESS 1 [########################] 10/10",
        "t: SUCCESS",
    ]
    assert "\r" not in plain.getvalue()


def test_progress_line_keeps_its_counts_when_one_poll_misses_them() -> None:
    counted = TaskResult("id", "PROGRESS", {"done": 3, "total": 300}, True)
    uncounted = TaskResult("id", "PROGRESS", None, False)
    plain = io.StringIO()
    line = trigger.ProgressLine(plain, "t")
    for result in (uncounted, counted, uncounted, counted, uncounted):
        line.update(result)
    line.update(TaskResult("id", "SUCCESS", {"ok": 1}, True))
    shown = [s.split(" (")[0] for s in plain.getvalue().splitlines()]
    assert shown == [
        "t: PROGRESS",
        "t: PROGRESS [........................] 3/300",
        "t: SUCCESS",
    ]


class FakeClient:
    def __init__(self, answers: list[TaskResult | Exception]) -> None:
        self.answers = answers

    def result(self, task_id: str, wait: float | None = None) -> TaskResult:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def wait(answers: list[TaskResult | Exception], timeout: float = 5) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = trigger.wait_for(
        FakeClient(answers),  # type: ignore[arg-type]
        "tests.fail",
        "id",
        timeout=timeout,
        interval=0.01,
        verbose=False,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_wait_outcomes() -> None:
    code, out, _ = wait([TaskResult("id", "STARTED"), TaskResult("id", "SUCCESS", {"n": 1}, True)])
    assert code == 0
    assert json.loads(out[out.index("{") :])["result"] == {"n": 1}

    failure = TaskResult("id", "FAILURE", "ValueError('boom')", True, "Traceback ...")
    code, out, err = wait([FlowerUnavailable("blip"), failure])
    assert code == 1
    assert "ended FAILURE: ValueError('boom')" in err and "Traceback" not in err

    code, _, err = wait([TaskResult("id", "STARTED")], timeout=0.05)
    assert code == 3 and "still STARTED after" in err

    code, _, err = wait([FlowerUnavailable("down")])
    assert code == 2 and "The task goes on" in err


def test_bounded_returns_raises_and_times_out() -> None:
    assert check.bounded(lambda: 5, 1) == 5
    with pytest.raises(ZeroDivisionError):
        check.bounded(lambda: 1 / 0, 1)
    started = time.monotonic()
    with pytest.raises(check.CheckTimeout):
        check.bounded(lambda: time.sleep(3), 0.2)
    assert time.monotonic() - started < 1


def test_report_masks_secrets_but_not_short_words() -> None:
    out = io.StringIO()
    report = check.Report(out)
    report.hide(SecretStr("hunter2-long"), "abc", None)
    report.bad("X", "failed with hunter2-long for abc")
    assert out.getvalue().endswith("X: failed with *** for abc\n")
    assert report.problems == 1


@pytest.fixture
def operator_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """An empty directory and an environment without any setting of ours."""
    from channel_app_template.settings import Settings

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def connect(*argv: str) -> FlowerClient:
    return flower_api.client_from_args(build_parser().parse_args(["status", *argv]))


def test_credentials_default_to_the_first_full_access_user(
    operator_shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "ops:ops-password-1,other:other-password")
    monkeypatch.setenv("WEB_PORT", "9000")
    client = connect()
    assert (client.base_url, client.username) == ("http://127.0.0.1:9000", "ops")
    assert client.password.get_secret_value() == "ops-password-1"
    assert client.origin == "URL from WEB_PORT, user from FLOWER_BASIC_AUTH"

    with pytest.raises(flower_api.FlowerError, match="no credentials"):
        connect("--url", "https://x.example", "--user", "bob")
    monkeypatch.setenv("CHANNEL_APP_URL", "https://app.example")
    monkeypatch.setenv("CHANNEL_APP_USER", "u")
    monkeypatch.setenv("CHANNEL_APP_PASSWORD", "p-word-123")
    client = connect()
    assert (client.base_url, client.username) == ("https://app.example", "u")
    assert client.password.get_secret_value() == "p-word-123"


def test_web_port_and_login_come_from_dotenv_like_the_app_reads_them(operator_shell: Any) -> None:
    (operator_shell / ".env").write_text("WEB_PORT=8111\nFLOWER_BASIC_AUTH=ops:dotenv-pass-1\n")
    client = connect()
    assert client.base_url == "http://127.0.0.1:8111"
    assert (client.username, client.password.get_secret_value()) == ("ops", "dotenv-pass-1")


def test_a_broken_connection_setting_is_an_error_not_another_app(operator_shell: Any) -> None:
    (operator_shell / ".env").write_text("WEB_PORT=99999\nFLOWER_BASIC_AUTH=ops:dotenv-pass-1\n")
    with pytest.raises(flower_api.FlowerError, match="WEB_PORT") as caught:
        connect()
    assert "8008" not in str(caught.value)


def test_dev_login_from_its_state_dir_when_nothing_is_configured(operator_shell: Any) -> None:
    from channel_app_template.devstack.stack import flower_password

    state = operator_shell / "var" / "dev"
    state.mkdir(parents=True)
    generated = flower_password(state)  # what channel-app dev writes there
    client = connect()
    assert (client.username, client.password.get_secret_value()) == ("admin", generated)
    assert "flower-password" in client.origin
    other = operator_shell / "elsewhere"
    other.mkdir()
    (other / "flower-password").write_text("another-generated-1\n")
    client = connect("--state-dir", str(other))
    assert client.password.get_secret_value() == "another-generated-1"


def test_401_and_404_name_the_url_and_where_it_came_from(operator_shell: Any) -> None:
    client = client_with(lambda request: httpx.Response(401, text="no"))
    client.origin = "URL from WEB_PORT, user from FLOWER_BASIC_AUTH"
    with pytest.raises(FlowerAuthError) as refused:
        client.async_apply("tests.add")
    assert "http://app.test" in str(refused.value)
    assert "URL from WEB_PORT" in str(refused.value)
    client = client_with(lambda request: httpx.Response(404, text="Not Found"))
    with pytest.raises(FlowerNotFound) as missing:
        client.tasks()
    assert "http://app.test/flower/api/tasks" in str(missing.value)


def test_trigger_of_an_unknown_task_names_the_url_it_asked(
    operator_shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_found(*args: Any, **kwargs: Any) -> Any:
        raise FlowerNotFound("404")

    monkeypatch.setenv("FLOWER_BASIC_AUTH", "ops:ops-password-1")
    monkeypatch.setenv("WEB_PORT", "8123")
    monkeypatch.setattr(FlowerClient, "async_apply", not_found)
    err = io.StringIO()
    args = build_parser().parse_args(["trigger", "nope"])
    assert trigger.run_trigger(args, io.StringIO(), err) == trigger.EXIT_REFUSED
    assert "http://127.0.0.1:8123/flower/" in err.getvalue()
    assert "URL from WEB_PORT" in err.getvalue()


def test_duplicate_node_names_are_suspected_from_heartbeats_and_pids() -> None:
    from channel_app_template.ops.status import duplicate_suspects

    one = {"hostname": "w1@h", "pid": 10, "freq": 2.0, "heartbeats": [100.0, 102.0, 104.0, 106.1]}
    two = {"hostname": "w2@h", "pid": 11, "freq": 2.0, "heartbeats": [100.0, 100.7, 102.0, 102.7]}
    young = {"hostname": "w3@h", "pid": 12, "freq": 2.0, "heartbeats": [100.0, 100.5]}
    swapped = {"hostname": "w4@h", "pid": 13, "freq": 2.0, "heartbeats": [100.0]}
    pids = {"w1@h": 10, "w2@h": 11, "w3@h": 12, "w4@h": 14}
    assert duplicate_suspects([one, two, young, swapped], pids) == {"w2@h", "w4@h"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def events_client(frames: list[list[dict[str, Any]]]) -> FlowerClient:
    """Flower answering ``/flower/workers?json=1`` with each frame in turn (then the last)."""
    answers = iter(frames)
    last: list[dict[str, Any]] = frames[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal last
        last = next(answers, last)
        return httpx.Response(200, json={"data": last})

    return client_with(handler)


def row(pid: int, *beats: float) -> dict[str, Any]:
    return {"hostname": "w1@h", "pid": pid, "freq": 2.0, "heartbeats": list(beats)}


def test_suspects_are_confirmed_only_by_a_second_process() -> None:
    from channel_app_template.ops.status import confirm_duplicates

    bunched = row(10, 100.0, 100.1, 100.2, 100.3)  # four heartbeats that arrived together
    clock = Clock()
    one_process = events_client([[row(10, 100.1, 100.2, 100.3, 101.9)]])
    assert not confirm_duplicates(
        one_process, {"w1@h"}, [bunched], {"w1@h": 10}, clock.sleep, clock
    )
    clock = Clock()
    two_pids = events_client([[row(11, 100.1, 100.2, 100.3, 100.9)]])
    assert confirm_duplicates(two_pids, {"w1@h"}, [bunched], {"w1@h": 10}, clock.sleep, clock)
    clock = Clock()
    two_beats = events_client([[row(10, 100.2, 100.3, 100.9, 101.7)]])
    assert confirm_duplicates(two_beats, {"w1@h"}, [bunched], {}, clock.sleep, clock)


def test_status_warns_about_a_duplicate_node_name() -> None:
    from channel_app_template.ops.status import collect, render

    polls: list[str] = []

    def flower(request: httpx.Request) -> httpx.Response:
        path, query = request.url.path, dict(request.url.params)
        if path == "/flower/api/workers" and query.get("status"):
            return httpx.Response(200, json={"w1@h": True})
        if path == "/flower/api/workers":
            return httpx.Response(200, json={"w1@h": {"stats": {"pid": 10}}})
        if path == "/flower/workers":  # heartbeats of two processes, pids alternating
            polls.append(path)
            beats = [100.0, 100.6, 102.0, 102.6]
            row = {"hostname": "w1@h", "pid": 10 + len(polls) % 2, "freq": 2.0, "heartbeats": beats}
            return httpx.Response(200, json={"data": [row]})
        if path == "/flower/api/queues/length":
            return httpx.Response(200, json={"active_queues": []})
        if path == "/flower/api/tasks":
            return httpx.Response(200, json={})
        return httpx.Response(404)

    data = collect(client_with(flower), 5)
    assert data["duplicate_node_names"] == ["w1@h"]
    out = io.StringIO()
    render(data, out)
    assert "more than one worker process answers as 'w1@h'" in out.getvalue()
    assert "(DUPLICATE)" in out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["trigger", "ping", "--timeout", "inf"],
        ["trigger", "ping", "--timeout", "1e300"],
        ["trigger", "ping", "--interval", "nan"],
        ["trigger", "ping", "--interval", "0"],
        ["resend", "product", "--all", "--timeout", "inf"],
        ["resend", "product", "--all", "--timeout", "1e300"],
        ["resend", "product", "--all", "--interval", "nan"],
        ["resend", "product", "--all", "--interval", "0"],
        ["status", "--failures", "0"],
        ["status", "--failures", "1000000"],
        ["status", "--http-timeout", "-1"],
        ["check", "--timeout", "Infinity"],
    ],
)
def test_command_line_numbers_are_bounded(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "must be a" in capsys.readouterr().err
