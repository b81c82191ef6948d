"""``channel-app resend`` turns an operator's words into the resend_failed task's arguments."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest

from channel_app_template.cli import build_parser
from channel_app_template.ops import resend


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    calls: list[argparse.Namespace] = []

    def fake_trigger(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(resend, "run_trigger", fake_trigger)
    return calls


def run(*argv: str) -> tuple[int, str]:
    args = build_parser().parse_args(["resend", *argv, "--url", "http://127.0.0.1:1"])
    err = io.StringIO()
    return args.handler(args, io.StringIO(), err), err.getvalue()


def test_skus_and_pks_become_the_task_arguments(sent: list[argparse.Namespace]) -> None:
    code, _ = run("product", "--sku", "A-1", "--sku", "B-2", "--pk", "7", "--wait")
    assert code == 0
    [call] = sent
    assert call.task == "resend_failed" and call.wait is True and call.args is None
    assert json.loads(call.kwargs) == {
        "content_type": "product",
        "pks": [7],
        "skus": ["A-1", "B-2"],
    }


def test_all_sends_no_ids(sent: list[argparse.Namespace]) -> None:
    assert run("productprice", "--all")[0] == 0
    assert json.loads(sent[0].kwargs) == {"content_type": "productprice"}


@pytest.mark.parametrize("argv", [("product",), ("product", "--all", "--pk", "3")])
def test_nothing_named_or_both_is_refused(
    sent: list[argparse.Namespace], argv: tuple[str, ...]
) -> None:
    code, err = run(*argv)
    assert code == 2 and "--all" in err and not sent


def test_an_unknown_content_type_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["resend", "order", "--all"])
