"""Failed-login throttling: per address, per user, trusted addresses, bounded tables."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from pydantic import SecretStr

from channel_app_template.api.auth import BasicAuthenticator
from channel_app_template.api.login import (
    LoginGate,
    LoginLimits,
    LoginThrottle,
    Verdict,
    client_address,
)
from channel_app_template.settings import BasicCredential

ADMIN = BasicCredential("admin", SecretStr("admin-pass-1"))
VIEWER = BasicCredential("viewer", SecretStr("viewer-pass-1"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def header(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def scope(address: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"client": (address, 50000), "headers": list(headers)}


def make_gate(clock: Clock, trust: bool = False, **limits: Any) -> LoginGate:
    throttle = LoginThrottle(LoginLimits(**limits), clock)
    return LoginGate(BasicAuthenticator([ADMIN], [VIEWER]), throttle, trust)


def test_the_21st_wrong_password_from_one_address_is_throttled() -> None:
    clock = Clock()
    gate = make_gate(clock)
    for attempt in range(20):
        clock.now += 1
        assert gate.admit(scope("203.0.113.5"), header("admin", f"guess{attempt}")).verdict is (
            Verdict.DENIED
        )
    refused = gate.admit(scope("203.0.113.5"), header("admin", "guess20"))
    assert refused.verdict is Verdict.THROTTLED
    assert 1 <= refused.retry_after <= 60
    # Even the right password: a 200 would confirm the guess.
    right = gate.admit(scope("203.0.113.5"), header("admin", "admin-pass-1"))
    assert right.verdict is Verdict.THROTTLED
    # The operator elsewhere is not affected.
    elsewhere = gate.admit(scope("198.51.100.7"), header("admin", "admin-pass-1"))
    assert elsewhere.verdict is Verdict.GRANTED
    # And the lock ends when the window's oldest failure ages out.
    clock.now += refused.retry_after
    assert gate.admit(scope("203.0.113.5"), header("admin", "admin-pass-1")).verdict is (
        Verdict.GRANTED
    )
    assert gate.throttle.failed_total == 20
    assert gate.throttle.throttled_total == 2


def test_a_slow_guesser_is_never_locked() -> None:
    clock = Clock()
    gate = make_gate(clock, max_failures_per_address=3, window=60.0)
    for attempt in range(10):
        clock.now += 30  # two failures per window, under the limit of three
        verdict = gate.admit(scope("203.0.113.5"), header("admin", f"g{attempt}")).verdict
        assert verdict is Verdict.DENIED


def test_spread_guessing_locks_the_user_briefly_but_not_from_a_trusted_address() -> None:
    clock = Clock()
    gate = make_gate(clock, max_failures_per_user=5, window=60.0)
    assert gate.admit(scope("198.51.100.7"), header("admin", "admin-pass-1")).caller
    for host in range(5):
        gate.admit(scope(f"203.0.113.{host}"), header("admin", "wrong-guess"))
    from_new_address = gate.admit(scope("192.0.2.99"), header("admin", "admin-pass-1"))
    assert from_new_address.verdict is Verdict.THROTTLED
    assert from_new_address.retry_after <= 60
    assert gate.admit(scope("198.51.100.7"), header("admin", "admin-pass-1")).caller
    assert gate.admit(scope("192.0.2.99"), header("viewer", "viewer-pass-1")).caller
    assert gate.throttle.summary()["locked_users"] == ["admin"]
    clock.now += 61
    assert gate.admit(scope("192.0.2.99"), header("admin", "admin-pass-1")).caller


def test_made_up_user_names_lock_no_user_and_are_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    gate = make_gate(clock, max_failures_per_user=2)
    caplog.set_level(logging.WARNING, logger="channel_app_template.api.login")
    for host in range(5):
        gate.admit(scope(f"203.0.113.{host}"), header("my-Secret-Pw", "x"))
    assert gate.throttle.summary()["locked_users"] == []
    assert "my-Secret-Pw" not in caplog.text
    assert "not a configured user" in caplog.text


def test_each_failure_is_logged_with_user_and_address_never_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = make_gate(Clock())
    caplog.set_level(logging.WARNING, logger="channel_app_template.api.login")
    gate.admit(scope("203.0.113.5"), header("admin", "Tr0ub4dor&3"))
    gate.admit(scope("203.0.113.5"), b"Bearer Tr0ub4dor&3")
    assert len(caplog.records) == 2
    assert "'admin' from 203.0.113.5" in caplog.records[0].getMessage()
    assert "Tr0ub4dor" not in caplog.text


def test_no_credentials_is_not_a_failure() -> None:
    gate = make_gate(Clock())
    for _ in range(50):
        assert gate.admit(scope("203.0.113.5"), None).verdict is Verdict.ANONYMOUS
    assert gate.throttle.failed_total == 0


def test_tables_stay_bounded_under_many_addresses() -> None:
    clock = Clock()
    gate = make_gate(clock, max_tracked=100)
    for n in range(5000):
        gate.admit(scope(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"), header("x", "y"))
        gate.admit(scope(f"10.9.{n // 256 % 256}.{n % 256}"), header("admin", "admin-pass-1"))
    assert len(gate.throttle._by_address) <= 100
    assert len(gate.throttle._trusted) <= 100


@pytest.mark.parametrize(
    ("peer", "forwarded", "trust", "expected"),
    [
        ("203.0.113.5", None, False, "203.0.113.5"),
        ("10.0.0.2", b"198.51.100.1, 203.0.113.5", False, "10.0.0.2"),
        ("10.0.0.2", b"198.51.100.1, 203.0.113.5", True, "203.0.113.5"),
        ("10.0.0.2", b"not-an-ip", True, "not-an-ip"),
        ("2001:db8:1:2:3:4:5:6", None, False, "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", None, False, "203.0.113.5"),
    ],
)
def test_client_address(peer: str, forwarded: bytes | None, trust: bool, expected: str) -> None:
    headers = [(b"x-forwarded-for", forwarded)] if forwarded else []
    assert client_address(scope(peer, *headers), trust) == expected


def test_one_ipv6_machine_cannot_dodge_the_limit_by_rotating_addresses() -> None:
    gate = make_gate(Clock(), max_failures_per_address=3)
    for n in range(3):
        gate.admit(scope(f"2001:db8::{n + 1}"), header("admin", "guess"))
    assert gate.admit(scope("2001:db8::99"), header("admin", "g")).verdict is Verdict.THROTTLED
