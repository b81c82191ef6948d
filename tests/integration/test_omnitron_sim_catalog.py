"""Contract: catalog endpoints, filters, pagination, uniqueness rules (real HTTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.omnitron import ApiClient, OmnitronSim, omnitron_simulator

pytestmark = pytest.mark.integration
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MODELS = [
    "batchrequest",
    "product",
    "order",
    "orderitem",
    "productprice",
    "productstock",
    "integrationaction",
    "productimage",
    "categorytree",
    "categorynode",
    "channel",
    "productcategory",
    "marketplaceattributeset",
    "marketplaceattributesetconfig",
    "marketplaceattribute",
    "marketplaceattributeschema",
    "marketplaceattributevalue",
    "marketplaceattributevalueconfig",
    "cancellationrequest",
]


@pytest.fixture(scope="module")
def sim() -> Iterator[OmnitronSim]:
    with omnitron_simulator(seed_products=60, seed=3) as running:
        yield running


@pytest.fixture(scope="module")
def api(sim: OmnitronSim) -> ApiClient:
    return sim.client()


def test_channel_and_catalog_shapes(api: ApiClient) -> None:
    channel = api.ok("GET", "/channels/1/")
    assert channel["pk"] == 1 and channel["catalog"] == 1 and channel["is_active"] is True
    assert {"conf", "schema", "category_tree", "channel_type", "modified_date"} <= set(channel)
    catalog = api.ok("GET", "/catalogs/1/")
    assert catalog["price_list"] == 1 and catalog["stock_list"] == 1
    assert catalog["extra_price_lists"] == [2] and catalog["extra_stock_lists"] == [2]


def test_channel_patch_schema_and_tree(api: ApiClient) -> None:
    schema = {
        "brand_code": {"required": True, "data_type": "text", "key": "brand_code", "label": "Brand"}
    }
    patched = api.ok("PATCH", "/channels/1/", {"schema": schema})
    assert patched["schema"] == schema
    assert api.ok("GET", "/channels/1/")["schema"] == schema


def test_content_types_one_per_model(api: ApiClient) -> None:
    for model in MODELS:
        body = api.ok("GET", f"/content_types/?model={model}")
        assert body["count"] == 1, model
        assert set(body["results"][0]) == {"id", "app_label", "model"}


def test_product_shape_and_dates(api: ApiClient) -> None:
    product = api.ok("GET", "/channel/1/products/?pk__in=5&limit=1")["results"][0]
    for key in (
        "pk",
        "name",
        "sku",
        "base_code",
        "product_type",
        "attributes",
        "attribute_set",
        "is_active",
        "modified_date",
        "created_date",
        "tax_rate",
    ):
        assert key in product
    assert DATE.match(product["modified_date"])
    assert product["tax_rate"] == "18.00"


@pytest.mark.parametrize("limit", [1, 7, 60, 1000])
def test_pagination_to_the_end_with_any_limit(api: ApiClient, limit: int) -> None:
    rows = api.all_pages("/channel/1/products/", limit=limit)
    assert [r["pk"] for r in rows] == list(range(1, 61))


def test_next_null_on_last_page_and_past_last_is_404(api: ApiClient) -> None:
    body = api.ok("GET", "/channel/1/products/?page=6&limit=10")
    assert body["next"] is None and body["previous"] is not None
    assert api.get("/channel/1/products/?page=7&limit=10")[0] == 404


def test_filters_in_exact_iexact_ranges(api: ApiClient) -> None:
    def pks(query: str) -> list[int]:
        return [r["pk"] for r in api.all_pages(f"/channel/1/products/?{query}")]

    assert pks("pk__in=3,1,2") == [1, 2, 3]
    assert pks("sku__exact=SKU-0000007") == [7]
    assert pks("sku__iexact=sku-0000007") == [7]
    assert pks("sku=SKU-0000007") == [7]
    assert pks("pk__gt=57") == [58, 59, 60]
    assert pks("pk__gte=58&pk__lte=59") == [58, 59]
    assert pks("pk__lt=3") == [1, 2]
    assert pks("sku=SKU-0000001&sku=SKU-0000004") == [1, 4]  # repeated params are OR-ed
    assert pks("attributes__color=red&pk__lte=20") == [5, 10, 15, 20]
    assert pks("modified_date__gt=2030-01-01T00:00:00Z") == []


def test_sort_ascending_and_descending(api: ApiClient) -> None:
    desc = api.ok("GET", "/channel/1/products/?sort=-id&limit=3")["results"]
    assert [r["pk"] for r in desc] == [60, 59, 58]
    by_sku = api.ok("GET", "/channel/1/products/?sort=sku&limit=2")["results"]
    assert [r["pk"] for r in by_sku] == [1, 2]


def test_prices_stocks_default_and_extra_lists(api: ApiClient) -> None:
    prices = api.ok("GET", "/channel/1/product_prices/?product__pk__in=1,2&limit=10")
    assert prices["count"] == 2 and {r["price_list"] for r in prices["results"]} == {1}
    price = prices["results"][0]
    assert isinstance(price["price"], str) and re.match(r"^\d+\.\d\d$", price["price"])
    extra = api.ok("GET", "/channel/1/extra_product_prices/?product__pk__in=1,2&price_list=2")
    assert extra["count"] == 2 and {r["price_list"] for r in extra["results"]} == {2}
    stocks = api.ok("GET", "/channel/1/product_stocks/?product__pk__in=1&limit=10")
    assert stocks["count"] == 1 and stocks["results"][0]["stock_list"] == 1
    extra_stocks = api.ok("GET", "/channel/1/extra_product_stocks/?stock_list=2&product=1")
    assert extra_stocks["count"] == 1
    images = api.ok("GET", "/channel/1/product_images/?product=10")
    assert images["count"] == 2 and images["results"][0]["image"].startswith("/media/")


def test_category_tree_nodes_and_sibling_uniqueness(api: ApiClient) -> None:
    tree = api.ok("POST", "/channel/1/category_trees/", {"name": "Sales Channel Tree x"})
    root = tree["category_root"]
    assert root["pk"] and root["path"]
    assert api.ok("GET", f"/channel/1/category_trees/{tree['pk']}/")["pk"] == tree["pk"]
    child = api.ok("POST", "/channel/1/category_nodes/", {"node": root["pk"], "name": "Shoes"})
    assert child["path"].startswith(root["path"]) and child["depth"] == root["depth"] + 1
    status, body = api.post("/channel/1/category_nodes/", {"node": root["pk"], "name": "Shoes"})
    assert 400 <= status < 500 and "non_field_errors" in body
    other = api.ok("POST", "/channel/1/category_nodes/", {"node": root["pk"], "name": "Bags"})
    assert api.patch(f"/channel/1/category_nodes/{other['pk']}/", {"name": "Shoes"})[0] == 400
    grandchild = api.ok(
        "POST", "/channel/1/category_nodes/", {"node": child["pk"], "name": "Shoes"}
    )  # same name, other parent
    detailed = api.ok("GET", f"/channel/1/category_nodes/{child['pk']}/detailed/")
    assert detailed["children"] == [{"pk": grandchild["pk"], "name": "Shoes"}]
    before = api.ok("GET", f"/channel/1/category_nodes/{other['pk']}/")["modified_date"]
    bumped = api.ok("PATCH", f"/channel/1/category_nodes/{other['pk']}/", {})
    assert bumped["modified_date"] > before
    leaves = api.all_pages("/channel/1/category_nodes/?numchild=0", limit=10000)
    assert grandchild["pk"] in {n["pk"] for n in leaves}
    assert child["pk"] not in {n["pk"] for n in leaves}
    assert api.post("/channel/1/category_nodes/", {"node": 99999, "name": "x"})[0] == 400


def test_product_categories_detailed(api: ApiClient) -> None:
    rows = api.ok("GET", "/channel/1/product_categories/detailed/?product=4")["results"]
    assert rows and rows[0]["category"]["path"].startswith("0001")


def test_attribute_uniqueness_rules(api: ApiClient) -> None:
    attr = api.ok("POST", "/channel/1/attributes/", {"channel": 1, "name": "material"})
    status, _ = api.post("/channel/1/attributes/", {"channel": 1, "name": "material"})
    assert 400 <= status < 500
    found = api.ok("GET", "/channel/1/attributes/?name__exact=material&channel=1")
    assert [r["pk"] for r in found["results"]] == [attr["pk"]]
    attr_set = api.ok(
        "POST", "/channel/1/attribute_sets/", {"channel": 1, "name": "Shoes", "remote_id": "rs-1"}
    )
    assert attr_set["id"] == attr_set["pk"]
    body = {
        "attribute_set": attr_set["pk"],
        "attribute": attr["pk"],
        "attribute_remote_id": "m",
        "is_required": False,
        "is_variant": False,
        "is_custom": False,
        "is_image_attribute": False,
        "is_meta": False,
    }
    config = api.ok("POST", "/channel/1/attribute_configs/", body)
    assert 400 <= api.post("/channel/1/attribute_configs/", body)[0] < 500
    detailed = api.ok(
        "GET", f"/channel/1/attribute_configs/detailed/?attribute_set={attr_set['pk']}&limit=100"
    )["results"]
    assert detailed[0]["pk"] == config["pk"]
    assert detailed[0]["attribute"] == {"pk": attr["pk"], "name": "material"}
    schema = {"name": "1 material Schema", "schema": {"type": "text"}, "channel": 1}
    api.ok("POST", "/channel/1/attribute_schemas/", schema)
    assert 400 <= api.post("/channel/1/attribute_schemas/", schema)[0] < 500
    value = api.ok(
        "POST",
        "/channel/1/attribute_values/",
        {"channel": 1, "attribute": attr["pk"], "label": "Cotton", "value": "cotton"},
    )
    got = api.ok(
        "GET",
        f"/channel/1/attribute_values/?attribute={attr['pk']}"
        "&label__exact=Cotton&value__exact=cotton",
    )
    assert got["results"][0]["pk"] == value["pk"]
    api.ok(
        "POST",
        "/channel/1/attribute_value_configs/",
        {"attribute_set": attr_set["pk"], "attribute_value": value["pk"]},
    )
    api.ok(
        "POST",
        "/channel/1/attribute_set_configs/",
        {"attribute_set": attr_set["pk"], "object_id": 2, "content_type": "categorynode"},
    )
    cfgs = api.ok(
        "GET",
        f"/channel/1/attribute_set_configs/?attribute_set={attr_set['pk']}"
        "&object_id=2&content_type__model__exact=categorynode",
    )
    assert cfgs["count"] == 1


def test_mapped_product_and_406_when_unmappable(api: ApiClient) -> None:
    mapped = api.ok("GET", "/channel/1/mapped_products/3/")
    assert mapped["attribute_set_id"] == 1 and mapped["attribute_set_remote_id"] == "set-1"
    assert mapped["mapped_attributes"]["color"] == "black"
    assert mapped["mapped_attribute_values"]["1"]["attribute_remote_id"] == "attr-color"
    lonely = api.ok("POST", "/products/", {"name": "No category", "sku": "LONELY-1"})
    status, body = api.get(f"/channel/1/mapped_products/{lonely['pk']}/")
    assert status == 406 and "error" in body


def test_validation_errors_are_field_lists(api: ApiClient) -> None:
    status, body = api.post("/products/", {"name": "x"})
    assert status == 400 and body == {"sku": ["This field is required."]}
    status, body = api.post("/products/", {"name": "x", "sku": "SKU-0000001"})
    assert status == 400 and "non_field_errors" in body
    assert api.get("/channel/1/products/999999/")[0] == 404
    assert api.get("/channel/99/products/")[0] == 404
    assert api.get("/channel/1/products")[0] == 404  # paths end with a slash


def test_error_reports(api: ApiClient) -> None:
    ct = api.ok("GET", "/content_types/?model=product")["results"][0]["id"]
    report = api.ok(
        "POST",
        "/channel/1/error_reports/",
        {
            "action_content_type": ct,
            "action_object_id": 1,
            "obj_modified_date": "2024-01-01 10:00:00",
            "error_code": "abc-Channel-SendProducts",
            "error_desc": "x",
            "raw_request": "{}",
            "raw_response": "{}",
            "is_ok": False,
        },
    )
    assert report["id"] and report["target_object_id"] == 1
    assert report["obj_modified_date"] == "2024-01-01T10:00:00.000000Z"
    city = api.ok(
        "POST",
        "/channel/1/error_reports/city/",
        {
            "type": "city",
            "remote_code": "1_ANK2",
            "country_id": 1,
            "name": "Ankara2",
            "integration_type": "sales_channel",
            "err_code": "x",
            "err_desc": "y",
        },
    )
    assert city["remote_code"] == "1_ANK2"
