"""What ``channel-app dev`` starts, decided from the environment (and ``.env``).

Whatever the developer configured is used as is; only what is missing is provided:

* no ``BROKER_*``: an embedded Valkey on a free port from 6390, data in ``<state>/valkey``;
* no ``OMNITRON_URL`` / ``MAIN_APP_URL``: the Omnitron simulator (seeded with a demo catalog)
  and the reference marketplace, state in ``<state>/*.sqlite3``, with ``channel.conf``
  pointing at the marketplace, a fast beat schedule and a batch of demo orders;
* no ``FLOWER_BASIC_AUTH``: user ``admin`` with a password generated once per state dir.

Then the Procfile's worker, beat, Flower and web run under one supervisor.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from channel_app_template.devstack.broker import (
    DEFAULT_BROKER_PORT,
    EmbeddedBroker,
    broker_configured,
    embedded_broker,
    first_free_port,
    port_is_free,
)
from channel_app_template.devstack.supervisor import ProcessSpec, Supervisor

OMNITRON_SETTINGS = ("OMNITRON_URL", "MAIN_APP_URL")
OMNITRON_BASE_PORT = 8010
MARKET_BASE_PORT = 8020
FLOWER_BASE_PORT = 5555
DEMO_USER = "sandbox"
DEMO_API_KEY = "sandbox-key"
FLOWER_USER = "admin"
CELERY_APP = "channel_app_template.celery_app"
# Seconds between runs in the demo: things visibly move within a minute. Setup flows are
# kicked off once at start (beat's first interval run would come only after an hour).
DEMO_SCHEDULE: dict[str, float] = {
    "update_channel_conf_schema": 3600,
    "create_or_update_category_tree_and_nodes": 3600,
    "create_or_update_category_attributes": 3600,
    "create_or_update_attributes": 3600,
    "insert_and_update_products": 15,
    "check_products": 10,
    "delete_products": 60,
    "check_delete_products": 30,
    "insert_and_update_stocks": 20,
    "check_stocks": 20,
    "insert_and_update_prices": 20,
    "check_prices": 20,
    "insert_and_update_images": 30,
    "check_images": 30,
    "fetch_orders": 10,
    "update_orders": 20,
    "check_orders": 20,
    "fetch_and_update_order_items": 30,
    "fetch_and_create_cancel": 30,
    "fetch_and_create_cancellation_requests": 60,
    "update_cancellation_requests": 60,
}
SETUP_TASKS = (
    "update_channel_conf_schema",
    "create_or_update_category_tree_and_nodes",
    "create_or_update_category_attributes",
)


@dataclass(frozen=True)
class DevOptions:
    web_port: int = 8008
    products: int = 300
    demo_orders: int = 25
    state_dir: Path = Path("var/dev")
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class Simulators:
    omnitron_port: int
    market_port: int
    state_dir: Path
    products: int

    @property
    def omnitron_url(self) -> str:
        return f"http://127.0.0.1:{self.omnitron_port}/"

    @property
    def market_url(self) -> str:
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

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.options.web_port}"


def read_dotenv(cwd: Path) -> dict[str, str | None]:
    """``.env`` as the app's settings read it: only from the working directory."""
    path = cwd / ".env"
    return {k.upper(): v for k, v in dotenv_values(path).items()} if path.is_file() else {}


def _configured(name: str, environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> bool:
    return bool(environ.get(name) or dotenv.get(name))


def flower_password(state_dir: Path) -> str:
    """Generated once per state dir, then reused: bookmarks and browsers keep working."""
    path = state_dir / "flower-password"
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


def plan(
    options: DevOptions, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> DevPlan:
    """Decide what to start. Pure except for choosing free ports and the state dir."""
    environ = dict(os.environ if environ is None else environ)
    cwd = cwd or Path.cwd()
    dotenv = read_dotenv(cwd)
    if not port_is_free(options.web_port):
        raise OSError(f"port {options.web_port} is in use: pass --port (or set WEB_PORT)")
    state_dir = (cwd / options.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {"PYTHONUNBUFFERED": "1"}

    broker: EmbeddedBroker | None = None
    if broker_configured(environ, dotenv):
        broker_url = _external_broker_url()
    else:
        broker = embedded_broker(state_dir / "valkey", DEFAULT_BROKER_PORT)
        broker_url = broker.url
        env["BROKER_URL"] = broker_url

    simulators: Simulators | None = None
    if not any(_configured(name, environ, dotenv) for name in OMNITRON_SETTINGS):
        omnitron_port = first_free_port(OMNITRON_BASE_PORT)
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
    if flower_port == options.web_port:
        flower_port = first_free_port(flower_port + 1)
    env["FLOWER_URL"] = f"http://127.0.0.1:{flower_port}"
    env["WEB_PORT"] = str(options.web_port)
    return DevPlan(
        options, state_dir, broker, broker_url, simulators, flower_port, flower_login, env
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
        specs.append((ProcessSpec("omnitron", omnitron, tier=0), sims.omnitron_port))
        specs.append((ProcessSpec("market", market, tier=0), sims.market_port))
    return specs


def app_processes(dev: DevPlan) -> list[tuple[ProcessSpec, int | None]]:
    """The Procfile's four processes, wired to what :func:`plan` decided."""
    env, cwd = dev.env, Path.cwd()
    concurrency = str(min(4, os.cpu_count() or 2))
    worker = _python(
        "-m", "celery", "-A", CELERY_APP, "worker", "--loglevel", "INFO",
        "--concurrency", concurrency, "-n", "dev@%h",
    )  # fmt: skip
    beat = _python(
        "-m", "celery", "-A", CELERY_APP, "beat", "--loglevel", "INFO",
        "--schedule", str(dev.state_dir / "celerybeat-schedule"),
    )  # fmt: skip
    flower = _python(
        "-m", "channel_app_template.cli", "flower",
        "--address", "127.0.0.1", "--port", str(dev.flower_port),
    )  # fmt: skip
    web = _python(
        "-m", "uvicorn", "channel_app_template.api.main:app",
        "--host", dev.options.host, "--port", str(dev.options.web_port),
        "--no-access-log", "--no-proxy-headers",
    )  # fmt: skip
    return [
        (ProcessSpec("worker", worker, env, cwd), None),
        (ProcessSpec("beat", beat, env, cwd), None),
        (ProcessSpec("flower", flower, env, cwd), dev.flower_port),
        (ProcessSpec("web", web, env, cwd), dev.options.web_port),
    ]


def describe(dev: DevPlan) -> list[str]:
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
        lines += [
            f"Omnitron (sim)   : {sims.omnitron_url} (login {DEMO_USER}/{DEMO_USER})",
            f"marketplace (sim): {sims.market_url}/ (X-Api-Key {DEMO_API_KEY})",
        ]
    else:
        lines.append("Omnitron         : yours (OMNITRON_URL / MAIN_APP_URL)")
    lines += [f"state            : {dev.state_dir}", "stop             : Ctrl-C"]
    return lines


def point_channel_at_marketplace(sims: Simulators, supervisor: Supervisor) -> None:
    """Write the reference channel's ``channel.conf`` into the simulator (idempotent)."""
    from channel_app_template.akinon.client import OmnitronClient
    from channel_app_template.akinon.token_cache import MemoryTokenCache

    client = OmnitronClient(
        sims.omnitron_url, DEMO_USER, DEMO_USER, 1, 1, token_cache=MemoryTokenCache()
    )
    client.catalog.update_channel(
        {
            "conf": {
                "api_url": sims.market_url,
                "api_key": DEMO_API_KEY,
                "remote_id_attribute": "sku",
            }
        }
    )
    supervisor.say(f"channel.conf now points at {sims.market_url}")


def run(dev: DevPlan, supervisor: Supervisor) -> int:
    """Start everything in order, then wait for Ctrl-C or a death; always stop all."""
    from channel_app_template.devstack.demo import DemoDriver

    infra, apps = infrastructure(dev), app_processes(dev)
    for spec, _ in [*infra, *apps]:
        supervisor.output.register(spec.name)  # aligned prefixes from the first line on
    supervisor.output.register("demo")
    with supervisor.signals():
        try:
            for spec, port in infra:
                supervisor.wait_for_port(port, supervisor.start(spec))
            if dev.simulators is not None:
                point_channel_at_marketplace(dev.simulators, supervisor)
            for spec, maybe_port in apps:
                process = supervisor.start(spec)
                if maybe_port is not None:
                    supervisor.wait_for_port(maybe_port, process)
            for line in describe(dev):
                supervisor.say(line)
            if dev.simulators is not None:
                driver = DemoDriver(supervisor, dev.broker_url, dev.simulators, dev.options)
                supervisor.run_helper("demo", driver.run)
            supervisor.wait()
        except Exception as error:
            if not supervisor.stopping.is_set():
                supervisor.say(f"could not start the stack: {error}")
                supervisor.failed = supervisor.failed or ("dev", 1)
        finally:
            supervisor.stop()
            supervisor.say("all processes stopped")
    return supervisor.exit_code()
