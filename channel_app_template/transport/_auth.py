"""Credentials as small objects with httpx's ``Auth`` shape: a flow that yields the request
to send and receives its answer, so a peer's login dance lives in its auth object, not in
the retry loop (the rules: :mod:`~channel_app_template.transport._retry`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
from pydantic import SecretStr

from channel_app_template.errors import (
    ConfigurationError,
)
from channel_app_template.transport._decode import Answer

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "AuthFlow",
    "BearerAuth",
]

# Yields the requests to send; receives each one's final answer (its body read within the cap).
AuthFlow = Generator[httpx.Request, Answer, None]


class Auth:
    """Credentials for one peer, applied to each call.

    :meth:`auth_flow` works as httpx's: it yields the request with credentials added and
    receives its final :class:`Answer` (retries already done); after a 401 it may yield the
    request again with new credentials, which is not counted as a retry. The default flow
    calls two simpler hooks that most peers need only: :meth:`apply` adds headers (``state``
    is a dict private to one call), :meth:`refused` says whether to send again after a 401
    (false: the 401 becomes an error). The base class sends nothing.
    """

    def auth_flow(self, request: httpx.Request) -> AuthFlow:
        state: dict[str, Any] = {}
        while True:
            headers: dict[str, str] = {}
            self.apply(headers, state)
            request.headers.update(headers)
            answer = yield request
            if answer.status_code != 401 or not self.refused(answer, state):
                return

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
