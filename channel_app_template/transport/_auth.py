"""Credentials as small objects (the shape httpx's ``Auth`` has), applied per attempt."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from channel_app_template.errors import (
    ConfigurationError,
)
from channel_app_template.transport._decode import Answer

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "BearerAuth",
]


class Auth:
    """Credentials for one peer, as a small object (the shape httpx's ``Auth`` has).

    ``apply`` adds headers to each attempt; ``state`` is a dict private to one logical call,
    for flows that need to remember something between attempts (e.g. "already logged in
    again"). ``refused`` is asked after a 401: return true to repeat the request (not
    counted as a retry), false to let the 401 become an :class:`AuthenticationError`.
    The base class sends nothing.
    """

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        """Add this peer's credentials to ``headers``."""

    def refused(self, answer: Answer, state: dict[str, Any]) -> bool:
        return False


class ApiKeyAuth(Auth):
    """A fixed key in a header (``X-Api-Key: ...``)."""

    def __init__(self, key: SecretStr | str, header: str = "X-Api-Key") -> None:
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        if not self._key.get_secret_value():
            raise ConfigurationError("the API key is empty")
        self.header = header

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        headers[self.header] = self._key.get_secret_value()

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self.header!r})"


class BearerAuth(ApiKeyAuth):
    """A fixed token as ``Authorization: Bearer ...``."""

    def __init__(self, token: SecretStr | str) -> None:
        super().__init__(token, "Authorization")

    def apply(self, headers: dict[str, str], state: dict[str, Any]) -> None:
        headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"

    def __repr__(self) -> str:
        return "BearerAuth()"
