"""Order writes through our client against the simulator: never duplicated, always decidable.

One simulator serves the module; faults are added per test through ``/_sandbox/faults/`` and
cleared afterwards. Order numbers are unique per test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.token_cache import RedisTokenCache
from channel_app_template.errors import AmbiguousWriteError, ItemError
from channel_app_template.transport import RetryPolicy, Timeouts
from tests.support.omnitron import (
    CATALOG_ID,
    CHANNEL_ID,
    PASSWORD,
    USERNAME,
    OmnitronSim,
    omnitron_simulator,
)
from tests.support.processes import Service, redis_server

pytestmark = pytest.mark.integration

NUMBERS = itertools.count(1)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def redis_service() -> Iterator[Service]:
    with redis_server() as service:
        yield service


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=20) as running:
        yield running


@pytest.fixture
def client(sim: OmnitronSim, redis_service: Service) -> Iterator[OmnitronClient]:
    cache = RedisTokenCache.from_dsn(f"redis://127.0.0.1:{redis_service.port}/0", sim.url, USERNAME)
    with OmnitronClient(
        sim.url,
        USERNAME,
        PASSWORD,
        CHANNEL_ID,
        CATALOG_ID,
        token_cache=cache,
        timeouts=Timeouts(connect=2, read=5),
        retry=RetryPolicy(max_attempts=4, max_elapsed=20),
        sleep=Sleeps(),
    ) as made:
        yield made
    sim.call("DELETE", "/_sandbox/faults/")


def add_fault(sim: OmnitronSim, **rule: Any) -> None:
    status, body = sim.call("POST", "/_sandbox/faults/rules/", rule)
    assert status == 201, body


def sandbox_order(sim: OmnitronSim, number: str) -> dict[str, Any] | None:
    status, body = sim.call("GET", f"/_sandbox/orders/{number}/")
    return body if status == 200 else None


def new_order(client: OmnitronClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An order body built only through the client's lookups and creates."""
    number = f"CLIENT-{next(NUMBERS)}"
    email = f"{number.lower()}@example.com"
    country = client.locations.find("countries", code__exact="TR", is_active=True).one()
    city = client.locations.find("cities", name__iexact="istanbul", country=country.pk).one()
    township = client.locations.find(
        "townships", name__iexact="kadikoy", country=country.pk, city=city.pk
    ).one()
    district = client.locations.find("districts", name__exact="Moda", township=township.pk).one()
    customer = client.customers.find("email", email) or client.customers.create(
        {"email": email, "first_name": "Ada", "last_name": "L", "channel_code": number}
    )
    address_body = {
        "email": email,
        "phone_number": "05550000000",
        "first_name": "Ada",
        "last_name": "L",
        "customer": customer.pk,
        "country": country.pk,
        "city": city.pk,
        "township": township.pk,
        "district": district.pk,
        "title": "Home",
        "line": "Street 1",
        "postcode": "34000",
    }
    address = client.customers.create_address(address_body)
    again = client.customers.create_address(address_body)  # a duplicate: the same one back
    assert again.pk == address.pk
    cargo = next(c for c in client.orders.cargos() if c.erp_code == "yurtici")
    order = {
        "number": number,
        "status": "400",
        "channel": CHANNEL_ID,
        "customer": customer.pk,
        "shipping_address": address.pk,
        "billing_address": address.pk,
        "currency": "try",
        "amount": "100.50",
        "shipping_amount": "0",
        "extra_field": {"id": f"R-{number}"},
        "cargo_company": cargo.pk,
        "client_type": "default",
        "date_placed": "2024-01-01 12:00:00.123456",
    }
    items = [
        {
            "product": 1,
            "status": "400",
            "price_currency": "try",
            "price": "50.25",
            "tax_rate": "18",
            "extra_field": {"id": f"{number}-L1"},
        }
    ]
    return order, items


def test_create_look_up_and_update_an_order(client: OmnitronClient) -> None:
    order, items = new_order(client)
    created = client.orders.create(order, items)
    assert created.number == order["number"]
    found = client.orders.by_number(order["number"])
    assert found is not None and found.pk == created.pk
    item = client.orders.items(order=created.pk).one()
    updated = client.orders.update_item(item.key, {"status": "550"})
    assert updated.status == "550"
    with pytest.raises(ItemError):  # the same number again is refused, not duplicated
        client.orders.create(order, items)


def test_response_lost_after_create_is_ambiguous_and_exactly_one_order_exists(
    client: OmnitronClient, sim: OmnitronSim
) -> None:
    order, items = new_order(client)
    add_fault(sim, pattern="/create_orders/$", action="lost_response", times=1)
    with pytest.raises(AmbiguousWriteError):
        client.orders.create(order, items)
    # what the order flow does next: look it up instead of repeating the create
    found = client.orders.by_number(order["number"])
    assert found is not None
    inspected = sandbox_order(sim, order["number"])
    assert inspected is not None and inspected["count_with_number"] == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "error", "status": 503},
        {"action": "error", "status": 500},
        {"action": "drop"},
    ],
)
def test_5xx_or_drop_on_create_is_ambiguous_and_sent_once(
    client: OmnitronClient, sim: OmnitronSim, rule: dict[str, Any]
) -> None:
    order, items = new_order(client)
    add_fault(sim, pattern="/create_orders/$", times=1, **rule)
    with pytest.raises(AmbiguousWriteError):
        client.orders.create(order, items)
    _, faults = sim.call("GET", "/_sandbox/faults/")
    assert faults["rules"][0]["fired"] == 1  # one POST reached the server, no repeat
    # the fault hit before Omnitron processed it: the lookup says "not there", so create
    assert client.orders.by_number(order["number"]) is None
    client.orders.create(order, items)
    assert sandbox_order(sim, order["number"])["count_with_number"] == 1  # type: ignore[index]


def test_429_on_create_is_retried_and_creates_one_order(
    client: OmnitronClient, sim: OmnitronSim
) -> None:
    order, items = new_order(client)
    add_fault(sim, pattern="/create_orders/$", action="error", status=429, retry_after=1, times=1)
    client.orders.create(order, items)
    assert sandbox_order(sim, order["number"])["count_with_number"] == 1  # type: ignore[index]
    assert client.http.stats.retries == 1


def test_tokens_revoked_mid_run_cost_exactly_one_relogin(
    client: OmnitronClient, sim: OmnitronSim
) -> None:
    client.orders.cargos().first_page()
    logins = client.http.stats.logins
    sim.call("POST", "/_sandbox/tokens/expire/", {})
    order, items = new_order(client)
    client.orders.create(order, items)
    assert list(client.orders.cargos())
    assert client.http.stats.logins == logins + 1
