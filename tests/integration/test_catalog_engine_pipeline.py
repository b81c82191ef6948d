"""The engine's pipe against the real Omnitron simulator: pk windows (fan-out), the commit
gate (one committed batch per content type) and the read-ahead (the next page is read and
prepared while a batch is in flight)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pytest
import redis

from channel_app_template.channel import ProductItem
from channel_app_template.core.engine.flows import PkWindow
from channel_app_template.core.engine.resources import PRODUCTS
from channel_app_template.errors import ChannelAppError
from tests.support.fake_market import REJECTED, actions, batches, make_engine, products
from tests.support.omnitron import OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
PRODUCT_COUNT = 40


@pytest.fixture
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=PRODUCT_COUNT) as running:
        yield running


def committed(sim: OmnitronSim) -> int:
    return sum(1 for b in batches(sim) if b["status"] == "commit")


class RecordingGate:
    """A commit gate that notes how many batches were committed as it is entered and left."""

    def __init__(self, sim: OmnitronSim) -> None:
        self.sim = sim
        self.held = False
        self.entered: list[tuple[str, int]] = []
        self.left: list[int] = []

    @contextlib.contextmanager
    def __call__(self, model: str) -> Iterator[None]:
        assert not self.held, "the gate was entered twice at once"
        self.held = True
        self.entered.append((model, committed(self.sim)))
        try:
            yield
        finally:
            self.held = False
            self.left.append(committed(self.sim))


def test_a_window_sends_only_its_pks(sim: OmnitronSim, cache: redis.Redis) -> None:
    engine, market = make_engine(sim, cache)
    pks = sorted(products(sim))
    window = PkWindow(after=pks[9], upto=pks[29])
    summary = engine.send(PRODUCTS, "inserts", window=window)
    sent = {a["object_id"] for a in actions(sim, "product")}
    assert sent == set(pks[10:30])
    assert summary.succeeded + summary.failed == 20
    # the rest is sent by the windows either side; nothing twice
    engine.send(PRODUCTS, "inserts", window=PkWindow(upto=pks[9]))
    engine.send(PRODUCTS, "inserts", window=PkWindow(after=pks[29]))
    done = actions(sim, "product")
    assert sorted(a["object_id"] for a in done) == pks
    assert len(market.products) == PRODUCT_COUNT - len(REJECTED)


def test_the_gate_is_held_exactly_while_a_batch_is_committed(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    gate = RecordingGate(sim)
    engine, market = make_engine(sim, cache, commit_gate=gate)
    during: list[tuple[bool, int]] = []
    market.on_send = lambda items: during.append((gate.held, committed(sim)))
    summary = engine.send(PRODUCTS, "inserts")
    assert len(summary.batches) == 3
    # entered by the opening repair, then once per batch, nothing committed each time
    assert gate.entered == [("product", 0)] * 4
    assert during == [(True, 1)] * 3  # held while its batch is committed
    assert gate.left == [0] * 4  # the batch has left COMMIT when it is left


def test_the_gate_is_released_when_the_batch_is_aborted(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    gate = RecordingGate(sim)
    engine, market = make_engine(sim, cache, commit_gate=gate)
    market.fail_with = ChannelAppError("marketplace exploded")
    with pytest.raises(ChannelAppError):
        engine.send(PRODUCTS, "inserts")
    assert not gate.held and gate.left == [0, 0]  # the opening repair's, the batch's
    assert [b["status"] for b in batches(sim)] == ["fail"]


def test_a_gate_that_fails_closes_the_opened_batch(sim: OmnitronSim, cache: redis.Redis) -> None:
    entries: list[str] = []

    @contextlib.contextmanager
    def refusing(model: str) -> Iterator[None]:
        entries.append(model)
        if len(entries) > 1:  # the opening repair gets in; the first commit does not
            raise TimeoutError(f"another worker holds {model}")
        yield

    engine, _ = make_engine(sim, cache, commit_gate=refusing)
    with pytest.raises(TimeoutError):
        engine.send(PRODUCTS, "inserts")
    assert [b["status"] for b in batches(sim)] == ["fail"]
    assert not actions(sim, "product")


def test_a_change_to_a_page_read_ahead_is_sent_by_a_later_run(
    sim: OmnitronSim, cache: redis.Redis
) -> None:
    engine, market = make_engine(sim, cache)
    client = sim.client()
    later = sorted(products(sim))[15:20]  # page 2: read ahead while batch 1 is out

    def edit_while_sending(items: Sequence[ProductItem]) -> None:
        market.on_send = None
        for pk in later:
            client.ok("PATCH", f"/products/{pk}/", {"name": "Edited in flight"})

    market.on_send = edit_while_sending
    engine.send(PRODUCTS, "inserts")
    by_pk = products(sim)
    for action in actions(sim, "product"):
        # whatever the batch carried, the version recorded is never newer than it
        assert action["version_date"] <= by_pk[action["object_id"]]["modified_date"]
    engine.send(PRODUCTS, "updates")
    for pk in later:
        sku = by_pk[pk]["sku"]
        if sku not in REJECTED:
            assert market.products[sku]["name"] == "Edited in flight"
    again = engine.send(PRODUCTS, "updates")
    assert again.batches == []
