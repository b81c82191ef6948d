"""Who may try a password, how often, and a record of every failure.

Without a limit, Basic authentication lets anyone guess thousands of passwords a second.
The rules, and why:

* **Per client address** (``LOGIN_FAILURES_PER_ADDRESS`` failures within
  ``LOGIN_FAILURE_WINDOW`` seconds): past it, every attempt from that address gets 429
  with ``Retry-After``, even a right password (otherwise the 429/200 difference would
  still confirm a guess). This is the limit that stops a single attacker, and it only
  ever locks the attacker's own address. IPv6 addresses count per ``/64``, the block one
  machine usually owns.
* **Per user name** (``LOGIN_FAILURES_PER_USER`` within the same window), for
  guessing spread over many addresses. It is short (it ends when the window's oldest
  failure ages out) and it does not apply to an address that logged in successfully as
  that user within ``LOGIN_TRUSTED_FOR`` seconds, so an attacker cannot lock the
  operator out: the operator's usual address keeps working, and a new one waits at most
  one window.
* Only configured user names are tracked per user, and logs name only those: a client's
  made-up user name (often a password typed in the wrong field) is never stored or
  printed. Tables are bounded (least recently failing addresses are forgotten first).

Each failure is logged (user, address, count; never the password) and counted; the
counters appear in ``/health``'s details.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from channel_app_template.api.auth import BasicAuthenticator, Caller
from channel_app_template.settings import Settings

__all__ = [
    "Admission",
    "LoginGate",
    "LoginLimits",
    "LoginThrottle",
    "Verdict",
    "client_address",
]

logger = logging.getLogger(__name__)

MAX_TRACKED = 10_000  # addresses (and trusted address/user pairs) remembered at once


@dataclass(frozen=True)
class LoginLimits:
    max_failures_per_address: int = 20
    max_failures_per_user: int = 100
    window: float = 60.0
    trusted_for: float = 86_400.0
    max_tracked: int = MAX_TRACKED

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            max_failures_per_address=settings.login_failures_per_address,
            max_failures_per_user=settings.login_failures_per_user,
            window=settings.login_failure_window,
            trusted_for=settings.login_trusted_for,
        )


class LoginThrottle:
    """Failure windows per address and per configured user; no I/O, clock injectable.

    Each window keeps only the last N failure times (N = its limit): the key is locked
    while the oldest of a full window is younger than ``window`` seconds.
    """

    def __init__(self, limits: LoginLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._by_user: dict[str, deque[float]] = {}
        self._trusted: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.failed_total = 0
        self.throttled_total = 0

    def retry_after(self, address: str, user: str | None) -> float:
        """Seconds before ``address`` may try (as ``user``); 0 when it may try now."""
        if not self._by_address and not self._by_user:
            return 0.0  # the usual case: nobody failed lately
        now = self._clock()
        wait = self._locked_for(self._by_address.get(address), now)
        if user is not None and not self._is_trusted(address, user, now):
            wait = max(wait, self._locked_for(self._by_user.get(user), now))
        return wait

    def refused(self) -> None:
        self.throttled_total += 1

    def failed(self, address: str, user: str | None) -> tuple[int, bool]:
        """Record a failure; return the address's failures in the window and whether this
        one locked the address."""
        now = self._clock()
        self.failed_total += 1
        failures = self._by_address.pop(address, None)
        if failures is None:
            failures = deque(maxlen=self.limits.max_failures_per_address)
        failures.append(now)
        self._by_address[address] = failures  # most recently failing last
        _forget_oldest(self._by_address, self.limits.max_tracked)
        if user is not None:
            per_user = self._by_user.setdefault(
                user, deque(maxlen=self.limits.max_failures_per_user)
            )
            per_user.append(now)
        recent = sum(1 for t in failures if now - t < self.limits.window)
        return recent, self._locked_for(failures, now) > 0

    def succeeded(self, address: str, user: str) -> None:
        if self.limits.trusted_for <= 0:
            return
        key = (address, user)
        trusted = self._trusted
        if key in trusted:  # the usual case: the same caller again, no eviction needed
            trusted[key] = self._clock()
            trusted.move_to_end(key)
            return
        trusted[key] = self._clock()
        _forget_oldest(trusted, self.limits.max_tracked)

    def summary(self) -> dict[str, Any]:
        now = self._clock()
        return {
            "failed": self.failed_total,
            "throttled": self.throttled_total,
            "locked_addresses": sum(
                1 for f in self._by_address.values() if self._locked_for(f, now)
            ),
            "locked_users": sorted(
                user for user, f in self._by_user.items() if self._locked_for(f, now)
            ),
        }

    def _locked_for(self, failures: deque[float] | None, now: float) -> float:
        if failures is None or len(failures) < (failures.maxlen or 0):
            return 0.0
        return max(0.0, failures[0] + self.limits.window - now)

    def _is_trusted(self, address: str, user: str, now: float) -> bool:
        since = self._trusted.get((address, user))
        return since is not None and now - since < self.limits.trusted_for


def _forget_oldest(table: MutableMapping[Any, Any], limit: int) -> None:
    while len(table) > limit:
        del table[next(iter(table))]


class Verdict(enum.Enum):
    GRANTED = "granted"
    ANONYMOUS = "anonymous"  # no credentials at all
    DENIED = "denied"  # credentials that prove nothing
    THROTTLED = "throttled"  # too many failures lately: not even checked


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    caller: Caller | None = None
    retry_after: int = 0


ANONYMOUS = Admission(Verdict.ANONYMOUS)


class LoginGate:
    """The one place the web process checks credentials: the proxy and ``/health``."""

    def __init__(
        self,
        authenticator: BasicAuthenticator,
        throttle: LoginThrottle,
        trust_forwarded_headers: bool = False,
    ) -> None:
        self.authenticator = authenticator
        self.throttle = throttle
        self.trust_forwarded_headers = trust_forwarded_headers

    def admit(self, scope: MutableMapping[str, Any], authorization: bytes | None) -> Admission:
        if not authorization:
            return ANONYMOUS
        attempt = self.authenticator.check(authorization)
        address = client_address(scope, self.trust_forwarded_headers)
        # Checked after the password only to parse the header once; a locked client gets
        # the same 429 whether its password was right or not.
        wait = self.throttle.retry_after(address, attempt.claimed_user)
        if wait > 0:
            self.throttle.refused()
            return Admission(Verdict.THROTTLED, retry_after=max(1, math.ceil(wait)))
        if attempt.caller is not None:
            self.throttle.succeeded(address, attempt.caller.username)
            return Admission(Verdict.GRANTED, attempt.caller)
        recent, locked = self.throttle.failed(address, attempt.claimed_user)
        limits = self.throttle.limits
        who = repr(attempt.claimed_user) if attempt.claimed_user else "(not a configured user)"
        logger.warning(
            "login failed: user %s from %s (%d of %d failures allowed in %gs)%s",
            who,
            address,
            recent,
            limits.max_failures_per_address,
            limits.window,
            "; address locked" if locked else "",
        )
        return Admission(Verdict.DENIED)


def client_address(scope: MutableMapping[str, Any], trust_forwarded_headers: bool) -> str:
    """The address failures are counted against: the TCP peer, or, behind a trusted load
    balancer, the address it appended to ``X-Forwarded-For``."""
    raw = None
    if trust_forwarded_headers:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                raw = value.decode("latin-1").rsplit(",", 1)[-1].strip()
    if not raw:
        client = scope.get("client")
        raw = client[0] if client else "unknown"
    return _address_key(raw)


@functools.lru_cache(maxsize=4096)
def _address_key(raw: str) -> str:
    """IPv4 as is, IPv6 as its /64; cached, since parsing costs more than the rest of a
    request's authentication and the same few clients call again and again."""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
