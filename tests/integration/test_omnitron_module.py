"""``OMNITRON_MODULE`` reaches every flow: order intake and setup, run through the runtime
wiring the worker uses, call the operations of the port the module names (that they import
no other way to Omnitron is an import-linter contract in pyproject.toml)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from channel_app_template.core.inbound.orders import OrderIngestion, OrderOptions
from channel_app_template.core.run.runtime import open_runtime
from channel_app_template.core.setup.flows import create_or_update_category_tree_and_nodes
from channel_app_template.settings import Settings
from tests.support import recording_omnitron
from tests.support.omnitron import OmnitronSim, omnitron_simulator
from tests.support.processes import Service, redis_server

pytestmark = pytest.mark.integration
MODULE = "tests.support.recording_omnitron"


@pytest.fixture(scope="module")
def cache() -> Iterator[Service]:
    with redis_server() as server:
        yield server


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=2) as running:
        running.client().ok(  # product 1 is on the marketplace as mp-1
            "POST",
            "/channel/1/integration_actions/",
            {"channel_id": 1, "content_type": "product", "object_id": 1, "remote_id": "mp-1"},
        )
        yield running


def settings(sim: OmnitronSim, cache: Service) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        omnitron_url=f"{sim.url}/",
        omnitron_username="sandbox",
        omnitron_password=SecretStr("sandbox"),
        omnitron_channel_id=1,
        omnitron_catalog_id=1,
        cache_url=SecretStr(f"redis://127.0.0.1:{cache.port}/0"),
        omnitron_module=MODULE,
        channel_module=MODULE,
    )


def test_order_intake_and_setup_go_through_the_omnitron_module(
    sim: OmnitronSim, cache: Service
) -> None:
    recording_omnitron.CALLS.clear()
    with open_runtime(settings(sim, cache)) as runtime:
        assert type(runtime.omnitron) is recording_omnitron.OmnitronIntegration
        ingestion = OrderIngestion(
            runtime.omnitron, runtime.channel, runtime.ledger("orders"), OrderOptions()
        )
        summary = ingestion.run()
        intake = set(recording_omnitron.CALLS)
        recording_omnitron.CALLS.clear()
        tree = create_or_update_category_tree_and_nodes(runtime.omnitron, runtime.channel)
        setup = set(recording_omnitron.CALLS)
    assert summary.created == 1 and summary.acknowledged == 1, summary.as_dict()
    assert {"orders_by_number", "customer", "create_address", "locations", "cargos"} <= intake
    assert {"create_order", "order_items_of", "record_mappings"} <= intake
    assert tree["created"] == 2, tree
    assert {"current_channel", "nodes_under", "mappings", "create_category_node"} <= setup
    assert "map_object" in setup
    numbers = [o["number"] for o in sim.client().all_pages("/channel/1/orders/")]
    assert numbers == ["PORT-00001"]
