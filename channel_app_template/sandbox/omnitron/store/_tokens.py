"""The simulator's login and API tokens: tokens persist across restarts, uses are counted
in memory."""

from __future__ import annotations

import json
import secrets

from ._rows import RowStore


class Tokens(RowStore):
    """Login check and the token table behind ``Token`` authentication."""

    def check_login(self, username: str, password: str) -> bool:
        stored = json.loads(self.meta("user") or "[]")
        return bool(stored) and secrets.compare_digest(
            f"{username}\0{password}", f"{stored[0]}\0{stored[1]}"
        )

    def new_token(self, username: str, now: float) -> str:
        key = secrets.token_hex(20)
        with self.tx():
            self.conn.execute(
                "INSERT INTO tokens (key, username, created, uses) VALUES (?,?,?,0)",
                (key, username, now),
            )
        return key

    def use_token(self, key: str) -> tuple[float, int] | None:
        """Count one use of ``key``; ``(created, uses)`` or None if unknown.

        Uses are counted in memory (a write per request would halve throughput); tokens
        themselves are persisted so a restart keeps clients logged in.
        """
        with self.lock:
            entry = self._tokens.get(key)
            if entry is None:
                row = self.conn.execute(
                    "SELECT created FROM tokens WHERE key = ?", (key,)
                ).fetchone()
                if row is None:
                    return None
                entry = self._tokens[key] = [float(row[0]), 0]
            entry[1] += 1
            return float(entry[0]), int(entry[1])

    def revoke_tokens(self) -> int:
        with self.tx():
            self._tokens.clear()
            return self.conn.execute("DELETE FROM tokens").rowcount

    def revoke_token(self, key: str) -> None:
        with self.tx():
            self._tokens.pop(key, None)
            self.conn.execute("DELETE FROM tokens WHERE key = ?", (key,))
