"""Where ``channel-app dev`` keeps the Flower login it generates, and for whom.

Written by the dev stack (``devstack``) and read by the operator CLI (``ops``) when no
credentials are configured; both are tools that must not import each other, so these
facts live below them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEV_STATE_DIR", "FLOWER_LOGIN_FILE", "FLOWER_USER", "flower_login_path"]

FLOWER_USER = "admin"
# Relative to the directory ``channel-app dev`` runs in.
DEV_STATE_DIR = Path("var/dev")
# The generated password, alone on its line (the user is FLOWER_USER).
FLOWER_LOGIN_FILE = "flower-password"


def flower_login_path(state_dir: Path | None = None) -> Path:
    """The file holding the generated password (in ``state_dir``, else the default)."""
    return (state_dir or DEV_STATE_DIR) / FLOWER_LOGIN_FILE
