"""The proxy's Basic authentication and its path rules, without any server."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from channel_app_template.api._paths import is_read, path_problem
from channel_app_template.api.auth import (
    PROVEN_HEADERS,
    Access,
    BasicAuthenticator,
    Caller,
    basic_authorization,
)
from channel_app_template.settings import BasicCredential

ADMIN = BasicCredential("admin", SecretStr("admin-pass-1"))
VIEWER = BasicCredential("viewer", SecretStr("viewer-pass-1"))


def header(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


@pytest.fixture
def auth() -> BasicAuthenticator:
    return BasicAuthenticator([ADMIN], [VIEWER])


def test_full_and_read_only_users(auth: BasicAuthenticator) -> None:
    assert auth.authenticate(header("admin", "admin-pass-1")) == Caller("admin", Access.FULL)
    assert auth.authenticate(header("viewer", "viewer-pass-1")) == Caller(
        "viewer", Access.READ_ONLY
    )
    lower = b"basic " + header("admin", "admin-pass-1")[6:]
    assert auth.authenticate(lower) == Caller("admin", Access.FULL)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"Basic",
        b"Basic !!!",
        b"Bearer abc",
        header("admin", "wrong"),
        header("viewer", "admin-pass-1"),
        header("admin", "admin-pass-1x"),
        b"Basic " + base64.b64encode(b"admin-pass-1"),
    ],
)
def test_rejected(auth: BasicAuthenticator, value: bytes | None) -> None:
    assert auth.authenticate(value) is None


def test_a_proven_header_is_remembered_and_a_wrong_one_never(auth: BasicAuthenticator) -> None:
    good, wrong = header("admin", "admin-pass-1"), header("admin", "wrong")
    first = auth.check(good)
    assert auth.check(good) is first  # remembered: not decoded and compared again
    assert auth.check(wrong).caller is None
    assert auth.check(wrong) is not auth.check(wrong)  # compared in full each time
    assert auth.check(wrong).claimed_user == "admin"


def test_the_remembered_headers_stay_bounded(auth: BasicAuthenticator) -> None:
    encoded = header("admin", "admin-pass-1")[6:]
    spellings = [b"Basic " + b" " * n + encoded for n in range(3 * PROVEN_HEADERS)]
    assert all(auth.authenticate(value) == Caller("admin", Access.FULL) for value in spellings)
    assert len(auth._proven) <= PROVEN_HEADERS


def test_upstream_authorization_round_trips(auth: BasicAuthenticator) -> None:
    assert auth.authenticate(basic_authorization(ADMIN)) == Caller("admin", Access.FULL)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        (b"/flower/", True),
        (b"/flower/api/task/async-apply/x.y", True),
        (b"/flower/a..b", True),
        (b"/flower/.well", True),
        (b"/flower/..", False),
        (b"/flower/%2e%2E/x", False),
        (b"/flower/..%2Fx", False),
        (b"/flower/a/./b", False),
        (b"/flower/a%5Cb", False),
        (b"/flower/a%0d%0aX:1", False),
        (b"/flower/a\xffb", False),
        (b"/flowers", False),
    ],
)
def test_path_rules(path: bytes, ok: bool) -> None:
    assert (path_problem(path, b"") is None) is ok


def test_read_only_allows_only_reads() -> None:
    assert is_read("GET", b"/flower/api/workers")
    assert is_read("HEAD", b"/flower/")
    assert is_read("POST", b"/flower/tasks/datatable")
    assert not is_read("POST", b"/flower/api/task/async-apply/x")
    assert not is_read("DELETE", b"/flower/api/workers")
    assert not is_read("PUT", b"/flower/tasks/datatable")
