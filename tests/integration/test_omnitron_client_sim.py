"""Our Omnitron client against the real simulator process, with injected faults.

Each scenario starts its own simulator (about half a second) with the fault flags it needs,
and every client caches its token in a private redis-server started for this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from channel_app_template.akinon.client import OmnitronClient
from channel_app_template.akinon.models import (
    BatchRequestObject,
    BatchRequestStatus,
    FailedReasonType,
    IntegrationActionStatus,
)
from channel_app_template.akinon.token_cache import KEY_PREFIX, RedisTokenCache
from channel_app_template.errors import (
    AmbiguousWriteError,
    LoginThrottled,
    RateLimited,
    RetryLater,
)
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


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def redis_service() -> Iterator[Service]:
    with redis_server() as service:
        yield service


@pytest.fixture
def redis_url(redis_service: Service) -> Iterator[str]:
    url = f"redis://127.0.0.1:{redis_service.port}/0"
    yield url
    redis.Redis.from_url(url).flushdb()  # our private server only


def client_for(sim: OmnitronSim, redis_url: str, **options: Any) -> OmnitronClient:
    cache = RedisTokenCache.from_dsn(redis_url, sim.url, USERNAME)
    options.setdefault("sleep", Sleeps())
    options.setdefault("timeouts", Timeouts(connect=2, read=5))
    options.setdefault("retry", RetryPolicy(max_attempts=4, max_elapsed=20))
    return OmnitronClient(
        sim.url, USERNAME, PASSWORD, CHANNEL_ID, CATALOG_ID, token_cache=cache, **options
    )


def test_reads_every_page_with_one_login_and_a_cached_token(redis_url: str) -> None:
    with omnitron_simulator(seed_products=250) as sim:
        client = client_for(sim, redis_url)
        skus = [product.sku for product in client.products.find(page_size=100)]
        assert len(skus) == 250 == len(set(skus))
        assert client.http.stats.logins == 1
        assert client.http.stats.requests == 1 + 3  # login + three pages

        store = redis.Redis.from_url(redis_url)
        keys = [k.decode() if isinstance(k, bytes) else k for k in store.keys("*")]
        token_key = f"{KEY_PREFIX}:token:" + keys[0].rsplit(":", 1)[1]
        assert token_key in keys
        assert 0 < store.ttl(token_key) <= 6 * 3600
        assert not any(PASSWORD in key or USERNAME in key for key in keys)

        second = client_for(sim, redis_url)  # another worker: reuses the cached token
        assert second.channel.get().pk == CHANNEL_ID
        assert second.http.stats.logins == 0


def test_token_expiring_mid_run_costs_exactly_one_relogin(redis_url: str) -> None:
    with omnitron_simulator("--token-max-uses", "3", seed_products=250) as sim:
        client = client_for(sim, redis_url)
        products = list(client.products.find(page_size=50))  # 5 pages; token dies after 3
        assert len(products) == 250
        assert client.http.stats.logins == 2
        assert client.http.stats.requests == 1 + 5 + 1 + 1  # login, pages, 401, re-login


@pytest.mark.parametrize(
    "fault",
    [
        "pattern=/channel/1/products/,action=error,status=503,times=2",
        "pattern=/channel/1/products/,action=error,status=500,times=1",
        "pattern=/channel/1/products/,action=error,status=502,times=1",
        "pattern=/channel/1/products/,action=drop,times=2",
        "pattern=/channel/1/products/,action=error,status=429,retry_after=2,times=1",
    ],
)
def test_reads_survive_5xx_429_and_dropped_connections(redis_url: str, fault: str) -> None:
    with omnitron_simulator("--fault", fault, seed_products=120) as sim:
        sleeps = Sleeps()
        client = client_for(sim, redis_url, sleep=sleeps)
        assert len(list(client.products.find(page_size=50))) == 120
        assert client.http.stats.retries == len(sleeps) >= 1
        if "429" in fault:
            assert sleeps == [2.0]


def test_a_lost_response_on_a_create_is_ambiguous_and_never_repeated(redis_url: str) -> None:
    fault = "pattern=/channel/1/batch_requests/$,action=lost_response,methods=POST,times=1"
    with omnitron_simulator("--fault", fault) as sim:
        client = client_for(sim, redis_url)
        with pytest.raises(AmbiguousWriteError):
            client.batches.create()
        batches = list(client.batches.find())
        assert len(batches) == 1  # applied once, not repeated
        assert batches[0].status is BatchRequestStatus.INITIALIZED


def test_a_lost_response_on_a_batch_transition_is_reconciled(redis_url: str) -> None:
    fault = "pattern=/channel/1/batch_requests/\\d+/$,action=lost_response,methods=PATCH,times=1"
    with omnitron_simulator("--fault", fault) as sim:
        client = client_for(sim, redis_url)
        batch = client.batches.create()
        failed = client.batches.mark_failed(batch.key)  # first answer lost, repeated
        assert failed.status is BatchRequestStatus.FAIL
        assert client.batches.get(batch.key).status is BatchRequestStatus.FAIL


def test_timeouts_bound_a_hanging_read(redis_url: str) -> None:
    fault = "pattern=/channel/1/products/,action=delay,delay_ms=1500"
    with omnitron_simulator("--fault", fault, seed_products=5) as sim:
        client = client_for(
            sim,
            redis_url,
            timeouts=Timeouts(connect=1, read=0.3),
            retry=RetryPolicy(max_attempts=3, backoff_base=0.05, max_elapsed=5),
            sleep=time.sleep,
        )
        client.channel.get()  # log in first, outside the measurement
        started = time.monotonic()
        with pytest.raises(RetryLater):
            list(client.products.find())
        elapsed = time.monotonic() - started
        assert elapsed < 0.3 * 3 + 1.0, elapsed
        assert client.http.stats.requests == 2 + 3


def test_content_type_ids_are_asked_once_per_client(redis_url: str) -> None:
    with omnitron_simulator() as sim:
        client = client_for(sim, redis_url)
        first = client.reports.content_type_id("product")
        before = client.http.stats.requests
        assert client.reports.content_type_id("product") == first
        assert client.http.stats.requests == before


def test_a_whole_batch_cycle_keeps_version_dates_verbatim(redis_url: str) -> None:
    with omnitron_simulator(seed_products=30) as sim:
        client = client_for(sim, redis_url)
        pending = client.products.pending("inserts", page_size=10).first_page()
        assert len(pending) == 10
        batch = client.batches.create()
        objects = [
            BatchRequestObject(pk=p.key, version_date=p.modified_date, content_type="product")
            for p in pending
        ]
        committed = client.batches.commit(batch.key, "product", objects)
        assert committed.status is BatchRequestStatus.COMMIT
        locked = {p.key for p in pending}
        assert not locked & {p.key for p in client.products.pending("inserts", page_size=100)}

        results = [o.model_copy(update={"remote_id": f"R-{o.pk}"}) for o in objects[:-1]] + [
            objects[-1].model_copy(update={"failed_reason_type": FailedReasonType.REMOTE})
        ]
        done = client.batches.mark_done(batch.key, results)
        assert done.status is BatchRequestStatus.DONE

        actions = {a.object_id: a for a in client.actions.for_objects("product", sorted(locked))}
        assert len(actions) == 10
        for obj in objects[:-1]:
            action = actions[obj.pk]
            assert action.status is IntegrationActionStatus.SUCCESS
            assert action.remote_id == f"R-{obj.pk}"
            assert action.version_date == obj.version_date  # to the microsecond
        assert actions[objects[-1].pk].status is IntegrationActionStatus.ERROR
        assert client.reports.content_type_id("product") > 0
        report = client.reports.create(
            "product",
            objects[-1].pk,
            error_code=f"{batch.local_batch_id}-Channel-Send",
            error_desc="refused by the channel",
            obj_modified_date=objects[-1].version_date,
        )
        assert report.pk is not None


def test_redis_token_cache_is_compare_and_delete_with_a_login_window(redis_url: str) -> None:
    store = redis.Redis.from_url(redis_url)
    cache = RedisTokenCache(store, "https://omni.example.com", "bot", ttl=100, login_window=50)
    other_user = RedisTokenCache(store, "https://omni.example.com", "bot2")
    cache.set("t1")
    assert cache.get() == "t1" and other_user.get() is None
    assert 0 < store.ttl(cache.token_key) <= 100
    cache.invalidate("stale")  # another worker's newer token must survive
    assert cache.get() == "t1"
    cache.invalidate("t1")
    assert cache.get() is None
    assert cache.count_login()[0] == 1
    count, left = cache.count_login()
    assert count == 2 and 0 < left <= 50
    assert other_user.count_login()[0] == 1


def test_login_guard_is_shared_by_every_client_on_the_same_redis(redis_url: str) -> None:
    with omnitron_simulator("--token-max-uses", "1") as sim:
        clients = [client_for(sim, redis_url, max_logins_per_window=3) for _ in range(3)]
        with pytest.raises(LoginThrottled):
            for _ in range(5):
                for client in clients:
                    client.channel.get()
        assert sum(c.http.stats.logins for c in clients) == 3


def test_omnitron_login_throttling_is_reported_with_its_retry_after(redis_url: str) -> None:
    with omnitron_simulator("--login-limit", "1") as sim:
        client_for(sim, redis_url).channel.get()
        redis.Redis.from_url(redis_url).flushdb()  # forget the token: force a second login
        with pytest.raises(RateLimited) as caught:
            client_for(sim, redis_url).channel.get()
        assert caught.value.retry_after == 60
