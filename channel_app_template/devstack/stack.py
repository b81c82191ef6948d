"""What ``channel-app dev`` starts, decided from the environment (and ``.env``).

Whatever the developer configured is used as is; only what is missing is provided:

* no ``BROKER_*``: an embedded Valkey on a free port from 6390, data in ``<state>/valkey``;
* no ``OMNITRON_URL`` / ``MAIN_APP_URL``: the Omnitron simulator (seeded with a demo catalog),
  state in ``<state>/*.sqlite3``, its ``channel.conf`` set as :mod:`.channel_conf` decides
  (the reference marketplace simulator runs only for the reference channel), a fast beat
  schedule and a batch of demo orders;
* no ``FLOWER_BASIC_AUTH``: user ``admin`` with a password generated once per state dir.

Then every line of the project's Procfile runs, literally, under one supervisor (see
:mod:`.procfile`); ``dev`` reaches them only through the environment: ``WEB_PORT``,
``WEB_HOST``, ``FLOWER_PORT``/``FLOWER_ADDRESS``/``FLOWER_URL``, ``BEAT_SCHEDULE_FILE``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from channel_app_template.core.run.flows import FLOWS
from channel_app_template.dev_login import flower_login_path
from channel_app_template.devstack.broker import (
    DEFAULT_BROKER_PORT,
    EmbeddedBroker,
    broker_configured,
    embedded_broker,
    first_free_port,
    port_is_free,
)
from channel_app_template.devstack.channel_conf import (
    ChannelChoice,
    choose_channel,
    started_marketplace,
)
from channel_app_template.devstack.claim import StateDirClaim
from channel_app_template.devstack.options import FLOWER_USER, DevOptions
from channel_app_template.devstack.ports import port_in_use_message
from channel_app_template.devstack.procfile import ProcfileProcess, read_procfile, shell_command
from channel_app_template.devstack.supervisor import ProcessSpec, Supervisor

__all__ = [
    "DEMO_SCHEDULE",
    "SETUP_TASKS",
    "DevOptions",
    "DevPlan",
    "Simulators",
    "app_processes",
    "describe",
    "infrastructure",
    "plan",
    "read_channel_conf",
    "run",
    "write_channel_conf",
]

OMNITRON_SETTINGS = ("OMNITRON_URL", "MAIN_APP_URL")
OMNITRON_BASE_PORT = 8010
MARKET_BASE_PORT = 8020
FLOWER_BASE_PORT = 5555
DEFAULT_WEB_PORT = 8008
DEMO_USER = "sandbox"
DEMO_API_KEY = "sandbox-key"
# Seconds between runs in the demo, so things visibly move within a minute, and the setup
# flows the demo sends once at start (beat's first interval run would come only after an
# hour): both declared by each flow in the registry.
DEMO_SCHEDULE: dict[str, float] = FLOWS.dev_schedule()
SETUP_TASKS = FLOWS.kickoff()


@dataclass(frozen=True)
class Simulators:
    omnitron_port: int
    market_port: int | None  # the reference marketplace, for the reference channel only
    state_dir: Path
    products: int

    @property
    def omnitron_url(self) -> str:
        return f"http://127.0.0.1:{self.omnitron_port}/"

    @property
    def market_url(self) -> str:
        if self.market_port is None:
            raise RuntimeError("no reference marketplace runs for this channel")
        return f"http://127.0.0.1:{self.market_port}"


@dataclass(frozen=True)
class DevPlan:
    """Everything decided before the first process starts."""

    options: DevOptions
    state_dir: Path
    broker: EmbeddedBroker | None
    broker_url: str
    simulators: Simulators | None
    flower_port: int
    flower_login: tuple[str, str] | None  # None: the developer's own FLOWER_BASIC_AUTH
    env: dict[str, str] = field(default_factory=dict)
    web_port: int = DEFAULT_WEB_PORT
    procfile: tuple[ProcfileProcess, ...] = ()
    procfile_path: Path = Path("Procfile")
    channel: ChannelChoice = field(default_factory=lambda: ChannelChoice("yours", ""))
    cwd: Path = field(default_factory=Path.cwd)  # where the Procfile's lines run

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"


def read_dotenv(cwd: Path) -> dict[str, str | None]:
    """``.env`` as the app's settings read it: only from the working directory."""
    path = cwd / ".env"
    return {k.upper(): v for k, v in dotenv_values(path).items()} if path.is_file() else {}


def _setting(name: str, environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> str:
    """A setting as the app reads it: the environment first, then ``.env``."""
    return environ.get(name) or dotenv.get(name) or ""


def _configured(name: str, environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> bool:
    return bool(_setting(name, environ, dotenv))


def flower_password(state_dir: Path) -> str:
    """Generated once per state dir, then reused: bookmarks and browsers keep working."""
    path = flower_login_path(state_dir)
    if path.is_file():
        existing = path.read_text().strip()
        if len(existing) >= 8:
            return existing
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _external_broker_url() -> str:
    """The developer's broker, read exactly as the app reads it (env, then ``.env``)."""
    from channel_app_template.settings import Settings

    return Settings().broker_dsn


def _channel_module(environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> str:
    from channel_app_template.settings import Settings

    default = str(Settings.model_fields["channel_module"].default)
    return _setting("CHANNEL_MODULE", environ, dotenv).strip() or default


def _web_port(
    options: DevOptions, environ: Mapping[str, str], dotenv: Mapping[str, str | None]
) -> int:
    if options.web_port is not None:
        return options.web_port
    raw = _setting("WEB_PORT", environ, dotenv).strip()
    if not raw:
        return DEFAULT_WEB_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"WEB_PORT={raw!r} is not a port (1-65535)")
    return int(raw)


def _children_path(environ: Mapping[str, str]) -> str:
    """``PATH`` with our interpreter's scripts first: the Procfile's ``celery``,
    ``uvicorn`` and ``channel-app`` are the ones installed beside the running ``dev``
    (what activating the virtualenv would do), also when it was not activated."""
    scripts = sysconfig.get_path("scripts") or str(Path(sys.executable).parent)
    rest = [p for p in environ.get("PATH", os.defpath).split(os.pathsep) if p and p != scripts]
    return os.pathsep.join([scripts, *rest])


def plan(
    options: DevOptions, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> DevPlan:
    """Decide what to start. Pure except for choosing free ports and the state dir."""
    environ = dict(os.environ if environ is None else environ)
    cwd = cwd or Path.cwd()
    dotenv = read_dotenv(cwd)
    procfile_path = (cwd / options.procfile).resolve()
    procfile = tuple(read_procfile(procfile_path))
    web_port = _web_port(options, environ, dotenv)
    if not port_is_free(web_port):
        raise OSError(port_in_use_message(web_port, "the web port: pass --port or set WEB_PORT"))
    state_dir = (cwd / options.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    # The Procfile's lines see .env like the app does (the environment wins over it).
    env: dict[str, str] = {k: v for k, v in dotenv.items() if v is not None and k not in environ}
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = _children_path(environ)

    broker: EmbeddedBroker | None = None
    if broker_configured(environ, dotenv):
        broker_url = _external_broker_url()
    else:
        broker = embedded_broker(state_dir / "valkey", DEFAULT_BROKER_PORT)
        broker_url = broker.url
        env["BROKER_URL"] = broker_url

    simulated = not any(_configured(name, environ, dotenv) for name in OMNITRON_SETTINGS)
    channel = choose_channel(_channel_module(environ, dotenv), options.channel_conf, simulated)
    simulators: Simulators | None = None
    if simulated:
        omnitron_port = first_free_port(OMNITRON_BASE_PORT)
        market_port: int | None = None
        if channel.reference:
            market_port = first_free_port(MARKET_BASE_PORT)
            if market_port == omnitron_port:  # pragma: no cover - only with overlapping bases
                market_port = first_free_port(omnitron_port + 1)
        simulators = Simulators(omnitron_port, market_port, state_dir, options.products)
        env.update(
            {
                "OMNITRON_URL": simulators.omnitron_url,
                "OMNITRON_USERNAME": DEMO_USER,
                "OMNITRON_PASSWORD": DEMO_USER,
                "OMNITRON_CHANNEL_ID": "1",
                "OMNITRON_CATALOG_ID": "1",
            }
        )
        if not _configured("BEAT_SCHEDULE", environ, dotenv):
            env["BEAT_SCHEDULE"] = json.dumps(DEMO_SCHEDULE)

    flower_login: tuple[str, str] | None = None
    if not _configured("FLOWER_BASIC_AUTH", environ, dotenv):
        flower_login = (FLOWER_USER, flower_password(state_dir))
        env["FLOWER_BASIC_AUTH"] = f"{flower_login[0]}:{flower_login[1]}"
    flower_port = first_free_port(FLOWER_BASE_PORT)
    if flower_port == web_port:
        flower_port = first_free_port(flower_port + 1)
    # What the Procfile's lines read (the shell expands ${WEB_PORT:-8008} and the like).
    env.update(
        {
            "WEB_PORT": str(web_port),
            "WEB_HOST": options.host,
            "FLOWER_PORT": str(flower_port),
            "FLOWER_ADDRESS": "127.0.0.1",
            "FLOWER_URL": f"http://127.0.0.1:{flower_port}",
            "BEAT_SCHEDULE_FILE": str(state_dir / "celerybeat-schedule"),
        }
    )
    return DevPlan(
        options,
        state_dir,
        broker,
        broker_url,
        simulators,
        flower_port,
        flower_login,
        env,
        web_port,
        procfile,
        procfile_path,
        channel,
        cwd,
    )


def _python(*args: str) -> list[str]:
    # The interpreter running us, so an unactivated virtualenv works the same.
    return [sys.executable, *args]


def infrastructure(dev: DevPlan) -> list[tuple[ProcessSpec, int]]:
    """Broker and simulators (stop tier 0), each with the port to wait for."""
    specs: list[tuple[ProcessSpec, int]] = []
    if dev.broker is not None:
        specs.append((ProcessSpec("valkey", dev.broker.command(), tier=0), dev.broker.port))
    sims = dev.simulators
    if sims is not None:
        cli = ("-m", "channel_app_template.cli", "sandbox")
        omnitron = _python(
            *cli,
            "omnitron",
            "--port",
            str(sims.omnitron_port),
            "--state",
            str(sims.state_dir / "omnitron.sqlite3"),
            "--seed-products",
            str(sims.products),
        )
        specs.append((ProcessSpec("omnitron", omnitron, tier=0), sims.omnitron_port))
        if sims.market_port is not None:
            market = _python(
                *cli,
                "marketplace",
                "--port",
                str(sims.market_port),
                "--state",
                str(sims.state_dir / "marketplace.sqlite3"),
                "--api-key",
                DEMO_API_KEY,
            )
            specs.append((ProcessSpec("market", market, tier=0), sims.market_port))
    return specs


def app_processes(dev: DevPlan) -> list[tuple[ProcessSpec, int | None]]:
    """Every line of the Procfile, run as written, with the port ``dev`` waits for."""
    ports = {"web": dev.web_port, "flower": dev.flower_port}
    return [
        (ProcessSpec(p.name, shell_command(p), dev.env, dev.cwd), ports.get(p.name))
        for p in dev.procfile
    ]


def describe(dev: DevPlan, channel_line: str = "") -> list[str]:
    """The banner: where everything is and how to log in."""
    lines = [
        f"Flower dashboard : {dev.web_url}/flower/",
        "Flower login     : "
        + (
            f"{dev.flower_login[0]} / {dev.flower_login[1]}"
            if dev.flower_login
            else "as in FLOWER_BASIC_AUTH"
        ),
        f"health           : {dev.web_url}/healthz",
    ]
    if dev.broker is not None:
        lines.append(
            f"broker           : {dev.broker.url} (embedded valkey, data in {dev.broker.data_dir})"
        )
    else:
        lines.append("broker           : yours (BROKER_URL / BROKER_HOST)")
    if dev.simulators is not None:
        sims = dev.simulators
        lines.append(f"Omnitron (sim)   : {sims.omnitron_url} (login {DEMO_USER}/{DEMO_USER})")
        if sims.market_port is not None:
            lines.append(f"marketplace (sim): {sims.market_url}/ (X-Api-Key {DEMO_API_KEY})")
    else:
        lines.append("Omnitron         : yours (OMNITRON_URL / MAIN_APP_URL)")
    names = ", ".join(p.name for p in dev.procfile)
    lines.append(f"Procfile         : {dev.procfile_path} ({names}, run as written)")
    lines.append(f"channel          : {dev.channel.module}")
    if channel_line:
        lines.append(f"channel conf     : {channel_line}")
    lines += [f"state            : {dev.state_dir}", "stop             : Ctrl-C"]
    return lines


def _omnitron(sims: Simulators) -> Any:
    from channel_app_template.akinon.client import OmnitronClient
    from channel_app_template.akinon.token_cache import MemoryTokenCache

    return OmnitronClient(
        sims.omnitron_url, DEMO_USER, DEMO_USER, 1, 1, token_cache=MemoryTokenCache()
    )


def write_channel_conf(sims: Simulators, conf: Mapping[str, Any]) -> None:
    """The one place ``dev`` sets the simulated channel's ``channel.conf`` (idempotent)."""
    _omnitron(sims).channel.update({"conf": dict(conf)})


def read_channel_conf(sims: Simulators) -> dict[str, Any]:
    return dict(_omnitron(sims).channel.get().conf)


def apply_channel_choice(dev: DevPlan, market: Any) -> str:
    """Write the chosen ``channel.conf`` into the Omnitron simulator; say where it came from."""
    sims, choice = dev.simulators, dev.channel
    if sims is None:
        return choice.describe()
    if choice.kind == "reference":
        conf = {"api_url": sims.market_url, "api_key": DEMO_API_KEY, "remote_id_attribute": "sku"}
        write_channel_conf(sims, conf)
        return choice.describe(market_url=sims.market_url)
    if choice.kind == "given" and choice.conf is not None:
        write_channel_conf(sims, choice.conf)
        return choice.describe()
    if choice.kind == "hook" and market is not None:
        conf = dict(market.conf)
        write_channel_conf(sims, conf)
        return choice.describe(conf)
    return choice.describe(read_channel_conf(sims))


def run(dev: DevPlan, supervisor: Supervisor, claim: StateDirClaim | None = None) -> int:
    """Start everything in order, then wait for Ctrl-C or a death; always stop all."""
    from channel_app_template.devstack.demo import DemoDriver

    infra, apps = infrastructure(dev), app_processes(dev)
    for spec, _ in [*infra, *apps]:
        supervisor.output.register(spec.name)  # aligned prefixes from the first line on
    supervisor.output.register("demo")
    if claim is not None:
        supervisor.on_start = claim.record
    with supervisor.signals(), contextlib.ExitStack() as stack:
        try:
            for spec, port in infra:
                supervisor.wait_for_port(port, supervisor.start(spec))
            market = stack.enter_context(started_marketplace(dev.channel))
            channel_line = apply_channel_choice(dev, market)
            started = [(supervisor.start(spec), port) for spec, port in apps]
            for process, maybe_port in started:
                if maybe_port is not None:
                    supervisor.wait_for_port(maybe_port, process)
            for line in describe(dev, channel_line):
                supervisor.say(line)
            if dev.simulators is not None:
                driver = DemoDriver(supervisor, dev.broker_url, dev.simulators, dev.options, market)
                supervisor.run_helper("demo", driver.run)
            supervisor.wait()
        except Exception as error:
            if not supervisor.stopping.is_set():
                supervisor.say(f"could not start the stack: {error}")
                supervisor.failed = supervisor.failed or ("dev", 1)
        finally:
            supervisor.stop()
            stack.close()  # the channel's own test marketplace, after the worker using it
            supervisor.say("all processes stopped")
    return supervisor.exit_code()
