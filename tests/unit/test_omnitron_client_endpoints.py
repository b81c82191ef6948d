"""Pagination and the typed endpoint groups against a scripted loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from channel_app_template.akinon.api import ID_CHUNK
from channel_app_template.akinon.models import (
    BatchRequestObject,
    BatchRequestStatus,
    FailedReasonType,
    IntegrationAction,
    Product,
)
from channel_app_template.akinon.pagination import Paginated, Unreadable, iter_raw_pages
from channel_app_template.errors import ItemError, NotFoundError, RunError
from tests.support.fake_omnitron import (
    FakeOmnitron,
    Reply,
    Seen,
    make_client,
    page,
    running_fake,
)

PRODUCTS = "/api/v1/channel/7/products/"


@pytest.fixture
def fake() -> Iterator[FakeOmnitron]:
    with running_fake() as server:
        yield server


def paged_products(total: int) -> Any:
    def responder(seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        limit = int(seen.query["limit"][0])
        start = (number - 1) * limit
        rows = [{"pk": i, "sku": f"S{i}"} for i in range(start + 1, min(total, start + limit) + 1)]
        more = start + limit < total
        return page(rows, f"http://x/?page={number + 1}" if more else None, total)

    return responder


# Pagination -----------------------------------------------------------------------------


def test_lists_are_read_to_the_last_page_with_page_and_limit(fake: FakeOmnitron) -> None:
    fake.responder = paged_products(250)
    client = make_client(fake.url)
    products = list(client.products.find(page_size=100, sort="id"))
    assert [p.pk for p in products] == list(range(1, 251))
    calls = fake.calls(PRODUCTS)
    assert [c.query["page"] for c in calls] == [["1"], ["2"], ["3"]]
    assert all(c.query["limit"] == ["100"] and c.query["sort"] == ["id"] for c in calls)


def test_pages_are_fetched_lazily_one_at_a_time(fake: FakeOmnitron) -> None:
    fake.responder = paged_products(30)
    client = make_client(fake.url)
    query = client.products.find(page_size=10)
    assert fake.calls(PRODUCTS) == []  # nothing sent before iteration
    pages = query.pages()
    first = next(pages)
    assert len(first) == 10 and len(fake.calls(PRODUCTS)) == 1
    next(pages)
    assert len(fake.calls(PRODUCTS)) == 2


def test_a_bare_list_is_the_only_page() -> None:
    calls: list[dict[str, Any]] = []

    def fetch(params: Any) -> Any:
        calls.append(dict(params))
        return [{"pk": 1}, {"pk": 2}]

    assert [p.pk for p in Paginated(fetch, Product)] == [1, 2]
    assert len(calls) == 1


def test_an_empty_page_ends_the_list_even_if_next_is_set() -> None:
    pages = iter_raw_pages(lambda p: {"results": [], "next": "http://x/?page=2"}, {})
    assert list(pages) == []


def test_a_missing_next_means_last_page() -> None:
    assert list(iter_raw_pages(lambda p: {"results": [{"pk": 1}]}, {})) == [[{"pk": 1}]]


def test_a_non_page_answer_is_a_run_error() -> None:
    with pytest.raises(RunError):
        list(iter_raw_pages(lambda p: {"detail": "?"}, {}))


def test_one_and_first(fake: FakeOmnitron) -> None:
    answers = [page([]), page([{"pk": 1}, {"pk": 2}]), page([{"pk": 3}])]
    fake.responder = lambda seen: answers.pop(0)
    query = make_client(fake.url).locations.find("countries", code__exact="TR", is_active=True)
    with pytest.raises(NotFoundError):
        query.one()
    with pytest.raises(ItemError):
        query.one()
    assert query.one().pk == 3
    assert fake.calls()[-1].query == {
        "code__exact": ["TR"],
        "is_active": ["true"],
        "page": ["1"],
        "limit": ["2"],
    }


def test_id_lookups_are_chunked_not_one_call_per_id(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        ids = seen.query["pk__in"][0].split(",")
        return page([{"pk": int(i)} for i in ids])

    fake.responder = responder
    client = make_client(fake.url)
    wanted = range(1, 2 * ID_CHUNK + 51)  # two full chunks and a partial one
    found = list(client.products.by_ids(wanted))
    assert [p.pk for p in found] == list(wanted)
    assert len(fake.calls(PRODUCTS)) == 3


# Typed endpoints ------------------------------------------------------------------------


def test_models_keep_akinon_names_dates_as_sent_and_decimals(fake: FakeOmnitron) -> None:
    stamp = "2023-12-28T10:28:17.186730Z"
    fake.responder = lambda seen: page(
        [{"id": 4, "product": 1, "price": "645670668.11", "modified_date": stamp, "new": 1}]
    )
    price = make_client(fake.url).prices.pending("inserts").first_page()[0]
    assert price.pk == price.id == 4
    assert price.price == Decimal("645670668.11")
    assert price.modified_date == stamp  # echoed back verbatim as version_date
    assert price.model_extra == {"new": 1}
    assert fake.calls()[-1].path == "/api/v1/channel/7/product_prices/inserts/"


def test_extra_price_and_stock_lists_use_their_own_routes(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([])
    client = make_client(fake.url)
    client.prices.pending("updates", list_id=9).first_page()
    client.stocks.pending("inserts", list_id=8).first_page()
    prices, stocks = fake.calls()[-2:]
    assert prices.path == "/api/v1/channel/7/extra_product_prices/updates/"
    assert prices.query["price_list"] == ["9"]
    assert stocks.path == "/api/v1/channel/7/extra_product_stocks/inserts/"
    assert stocks.query["stock_list"] == ["8"]


def test_pending_products_send_type_and_language(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([])
    make_client(fake.url).products.pending("updates", language="tr-tr").first_page()
    seen = fake.calls()[-1]
    assert seen.path == "/api/v1/channel/7/products/updates/"
    assert seen.query["product_type"] == ["0"]
    assert seen.headers["Accept-Language"] == "tr-tr"


def test_content_type_ids_are_cached_per_client(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([{"id": 12, "app_label": "products", "model": "product"}])
    client = make_client(fake.url)
    assert client.reports.content_type_id("product") == 12
    assert client.reports.content_type_id("product") == 12
    assert len(fake.calls("/api/v1/content_types/")) == 1
    assert make_client(fake.url).reports.content_type_id("product") == 12
    assert len(fake.calls("/api/v1/content_types/")) == 2  # not a process-wide cache


def test_batch_statuses_are_sent_as_repeated_params(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([{"pk": 1, "status": "ongoing"}])
    client = make_client(fake.url)
    statuses = (BatchRequestStatus.SENT_TO_REMOTE, BatchRequestStatus.ONGOING)
    batch = client.batches.find(statuses, content_type="product").first_page()[0]
    assert batch.status is BatchRequestStatus.ONGOING
    assert fake.calls()[-1].query["status"] == ["sent_to_remote", "ongoing"]


def test_commit_and_done_bodies(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"pk": 3, **(seen.body or {})})
    client = make_client(fake.url)
    stamp = "2024-01-01T00:00:00.000001Z"
    objects = [
        BatchRequestObject(pk=1, version_date=stamp, content_type="product", remote_id="R1"),
        BatchRequestObject(
            pk=2,
            version_date=stamp,
            content_type="product",
            failed_reason_type=FailedReasonType.REMOTE,
        ),
    ]
    client.batches.commit(3, "product", objects)
    client.batches.mark_done(3, objects)
    commit, done = fake.calls("/api/v1/channel/7/batch_requests/3/")
    assert commit.method == done.method == "PATCH"
    assert commit.body["status"] == "commit" and commit.body["content_type"] == "product"
    assert done.body["channel"] == 7
    assert done.body["objects"] == [
        {
            "pk": 1,
            "version_date": stamp,
            "content_type": "product",
            "remote_id": "R1",
            "failed_reason_type": None,
        },
        {
            "pk": 2,
            "version_date": stamp,
            "content_type": "product",
            "remote_id": None,
            "failed_reason_type": "remote",
        },
    ]


def test_a_refused_transition_to_the_current_status_is_success(fake: FakeOmnitron) -> None:
    refused = Reply(406, {"detail": "invalid transition", "code": "batch_request_status_100_1"})
    answers = [refused, Reply(200, {"pk": 3, "status": "done"})]
    fake.responder = lambda seen: answers.pop(0)
    batch = make_client(fake.url).batches.mark_done(3, [])
    assert batch.status is BatchRequestStatus.DONE


def test_a_refused_transition_elsewhere_is_an_item_error(fake: FakeOmnitron) -> None:
    refused = Reply(406, {"detail": "invalid transition", "code": "batch_request_status_100_1"})
    answers = [refused, Reply(200, {"pk": 3, "status": "fail"})]
    fake.responder = lambda seen: answers.pop(0)
    with pytest.raises(ItemError) as caught:
        make_client(fake.url).batches.mark_done(3, [])
    assert caught.value.code == "batch_request_status_100_1"


def test_a_duplicate_address_returns_the_existing_one(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        if seen.method == "POST":
            return Reply(400, {"non_field_errors": ["hash_data:abc123 already exists"]})
        return page([{"pk": 44, "hash_data": "abc123"}])

    fake.responder = responder
    address = make_client(fake.url).customers.create_address({"line": "x", "city": 1})
    assert address.pk == 44
    lookup = fake.calls("/api/v1/channel/7/addresses/", "GET")[0]
    assert lookup.query["hash_data"] == ["abc123"]
    assert len(fake.calls("/api/v1/channel/7/addresses/", "POST")) == 1


def test_another_address_error_is_raised(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(400, {"line": ["This field is required."]})
    with pytest.raises(ItemError):
        make_client(fake.url).customers.create_address({})


def test_order_by_number_and_create_order(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        if seen.method == "GET":
            return page([])
        return Reply(201, {"pk": 9, "number": seen.body["order"]["number"]})

    fake.responder = responder
    orders = make_client(fake.url).orders
    assert orders.by_number("M-1") is None
    query = fake.calls()[-1].query
    assert query["number"] == ["M-1"] and query["channel_id"] == ["7"]
    order = orders.create({"number": "M-1", "amount": Decimal("10.00")}, [{"product": 1}])
    assert order.pk == 9
    sent = fake.calls("/api/v1/channel/7/create_orders/")[0].body
    assert sent == {"order": {"number": "M-1", "amount": "10.00"}, "order_item": [{"product": 1}]}


def test_cancel_and_item_update_bodies(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: Reply(200, {"pk": 5})
    orders = make_client(fake.url).orders
    orders.cancel(9, [5, 6], {5: 10, 6: 10})
    orders.update_item(5, {"status": "550", "invoice_number": None, "tracking_number": ""})
    cancel = fake.calls("/api/v1/channel/7/orders/9/cancel/")[0]
    assert cancel.body == {
        "order": 9,
        "cancel_items": [5, 6],
        "reasons": {"5": 10, "6": 10},
        "forced_refund_amount": None,
    }
    assert fake.calls("/api/v1/channel/7/order_items/5/")[0].body == {"status": "550"}


def test_customer_lookup_by_configured_field(fake: FakeOmnitron) -> None:
    fake.responder = lambda seen: page([{"pk": 2, "phone_number": "555"}])
    customer = make_client(fake.url).customers.find("phone_number", "555")
    assert customer is not None and customer.pk == 2
    assert fake.calls()[-1].query["phone_number"] == ["555"]
    assert fake.calls()[-1].query["channel"] == ["7"]


def test_deleting_a_mapping_twice_is_fine(fake: FakeOmnitron) -> None:
    answers = [Reply(204), Reply(404, {"detail": "Not found."})]
    fake.responder = lambda seen: answers.pop(0)
    actions = make_client(fake.url).actions
    actions.delete(4)
    actions.delete(4)


def test_integration_action_content_type_model() -> None:
    nested = IntegrationAction.model_validate({"pk": 1, "content_type": {"id": 2, "model": "x"}})
    assert nested.model_name == "x"
    assert IntegrationAction.model_validate({"pk": 1, "content_type": "y"}).model_name == "y"


def test_report_error_resolves_content_types(fake: FakeOmnitron) -> None:
    def responder(seen: Seen) -> Reply:
        if seen.path == "/api/v1/content_types/":
            ids = {"product": 2, "channel": 5}
            model = seen.query["model"][0]
            return page([{"id": ids[model], "model": model}])
        return Reply(201, {"id": 1, **seen.body})

    fake.responder = responder
    reports = make_client(fake.url).reports
    reports.create("product", 11, error_code="b-Channel-Send", error_desc="refused")
    body = fake.calls("/api/v1/channel/7/error_reports/")[0].body
    assert body["action_content_type"] == 2 and body["target_content_type"] == 5
    assert body["target_object_id"] == 7 and body["is_ok"] is False


def test_an_unreadable_row_is_skipped_and_an_unreadable_answer_a_run_error(
    fake: FakeOmnitron,
) -> None:
    fake.responder = lambda seen: (
        page([{"pk": "not-a-number"}, {"pk": 3, "sku": "ok"}])
        if seen.method == "GET"
        else Reply(201, {"pk": 1})
    )
    client = make_client(fake.url)
    met: list[Unreadable] = []
    client.on_unreadable = met.append
    assert [p.sku for p in client.products.find()] == ["ok"]  # one bad row, one row lost
    assert len(met) == 1 and met[0].pk is None and met[0].fields[0].startswith("pk ")
    with pytest.raises(RunError):
        client.batches.create()  # no status in the answer


def test_a_listed_batch_skips_its_objects_unread() -> None:
    from channel_app_template.akinon.models import BatchRequestHead

    objects = [{"pk": n, "content_type": "product", "version_date": None} for n in range(3)]
    listed = BatchRequestHead.model_validate({"pk": 7, "status": "ongoing", "objects": objects})
    assert listed.pk == 7 and listed.status == "ongoing" and listed.objects is None
    # entries it never reads cannot make the batch unreadable either
    odd = BatchRequestHead.model_validate({"pk": 8, "status": "ongoing", "objects": [{"x": 1}]})
    assert odd.objects is None
