"""HTTP Basic authentication for the Flower proxy, with full and read-only users."""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from channel_app_template.settings import BasicCredential

__all__ = [
    "CHALLENGE",
    "Access",
    "Attempt",
    "BasicAuthenticator",
    "Caller",
    "basic_authorization",
]

CHALLENGE = b'Basic realm="channel-app flower", charset="UTF-8"'
PROVEN_HEADERS = 64  # the most proven Authorization headers remembered at once


class Access(enum.Enum):
    """What an authenticated caller may do through the proxy."""

    FULL = "full"
    READ_ONLY = "read-only"


@dataclass(frozen=True)
class Caller:
    """Who is calling through the proxy, and what they may do."""

    username: str
    access: Access


class BasicAuthenticator:
    """Checks ``Authorization: Basic`` headers against configured users.

    Every configured user is compared, with :func:`hmac.compare_digest`, whatever matches
    first, so response time does not tell which user name exists.
    """

    def __init__(
        self,
        full: Sequence[BasicCredential],
        read_only: Sequence[BasicCredential] = (),
    ) -> None:
        levels = ((full, Access.FULL), (read_only, Access.READ_ONLY))
        self._users = [
            (c.username.encode(), c.password.get_secret_value().encode(), Caller(c.username, a))
            for credentials, a in levels
            for c in credentials
        ]
        # Headers that proved a user, exactly as sent: the dashboard and the API send the
        # same one again and again, and decoding and comparing it was a tenth of a proxied
        # GET's CPU. Only proofs are kept, so a wrong guess is always compared in full.
        self._proven: dict[bytes, Attempt] = {}

    def authenticate(self, header: bytes | None) -> Caller | None:
        """Return who is calling, or ``None`` if the header proves nothing."""
        return self.check(header).caller

    def check(self, header: bytes | None) -> Attempt:
        """Who is calling, and which configured user name the header claimed (if any)."""
        if not header:
            return NO_ATTEMPT
        proven = self._proven.get(header)
        if proven is not None:
            return proven
        scheme, _, encoded = header.strip().partition(b" ")
        if scheme.lower() != b"basic":
            return NO_ATTEMPT
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return NO_ATTEMPT
        username, separator, password = decoded.partition(b":")
        if not separator:
            return NO_ATTEMPT
        granted: Caller | None = None
        claimed: str | None = None
        for known_user, known_password, caller in self._users:
            user_ok = hmac.compare_digest(username, known_user)
            password_ok = hmac.compare_digest(password, known_password)
            if user_ok and claimed is None:
                claimed = caller.username
            if user_ok and password_ok and granted is None:
                granted = caller
        attempt = Attempt(granted, claimed)
        if granted is not None:
            if len(self._proven) >= PROVEN_HEADERS:
                self._proven.clear()  # spellings of valid credentials: a caller's own choice
            self._proven[header] = attempt
        return attempt


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of checking one ``Authorization`` header.

    ``claimed_user`` is set only when the header named a configured user, so that
    throttling and logs never key on (or print) whatever a client typed as a user name:
    people do type their password there.
    """

    caller: Caller | None
    claimed_user: str | None = None


NO_ATTEMPT = Attempt(None)


def basic_authorization(credential: BasicCredential) -> bytes:
    """The ``Authorization`` header value that presents ``credential``."""
    pair = f"{credential.username}:{credential.password.get_secret_value()}".encode()
    return b"Basic " + base64.b64encode(pair)
