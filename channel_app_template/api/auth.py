"""HTTP Basic authentication for the Flower proxy, with full and read-only users."""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from collections.abc import Sequence

from channel_app_template.settings import BasicCredential

CHALLENGE = b'Basic realm="channel-app flower", charset="UTF-8"'


class Access(enum.Enum):
    """What an authenticated caller may do through the proxy."""

    FULL = "full"
    READ_ONLY = "read-only"


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
        self._users = [
            (c.username.encode(), c.password.get_secret_value().encode(), Access.FULL) for c in full
        ] + [
            (c.username.encode(), c.password.get_secret_value().encode(), Access.READ_ONLY)
            for c in read_only
        ]

    def authenticate(self, header: bytes | None) -> Access | None:
        """Return the caller's access level, or ``None`` if the header proves nothing."""
        if not header:
            return None
        scheme, _, encoded = header.strip().partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        username, separator, password = decoded.partition(b":")
        if not separator:
            return None
        granted: Access | None = None
        for known_user, known_password, access in self._users:
            user_ok = hmac.compare_digest(username, known_user)
            password_ok = hmac.compare_digest(password, known_password)
            if user_ok and password_ok and granted is None:
                granted = access
        return granted


def basic_authorization(credential: BasicCredential) -> bytes:
    """The ``Authorization`` header value that presents ``credential``."""
    pair = f"{credential.username}:{credential.password.get_secret_value()}".encode()
    return b"Basic " + base64.b64encode(pair)
