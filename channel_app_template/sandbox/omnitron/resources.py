"""Every simulated Omnitron resource, declared as data: table, columns, wire names, rules.

One declaration drives the SQLite schema, the JSON shape, write validation and the filters, so
adding a resource never means writing another CRUD handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Kind = Literal["int", "str", "bool", "dec", "date", "json", "fk"]


@dataclass(frozen=True)
class Field:
    """One column. ``hidden`` columns are stored and filterable but never serialized."""

    name: str
    kind: Kind = "str"
    default: Any = None
    required: bool = False
    max_length: int | None = None
    target: str | None = None  # table an ``fk`` points at (validated on write)
    readonly: bool = False  # server-managed: ignored in request bodies
    hidden: bool = False
    bounds: tuple[int, int] | None = None  # inclusive range of an ``int`` field
    choices: tuple[str, ...] | None = None  # the enum of a ``str`` field


@dataclass(frozen=True)
class Related:
    """A filterable relation (``mapping__code__exact``) implemented as an ``id IN (subquery)``."""

    table: str
    link_column: str
    fixed: tuple[tuple[str, Any], ...]
    kinds: tuple[tuple[str, Kind], ...]


@dataclass(frozen=True)
class Spec:
    """A resource: SQLite table ``table``, exposed under ``path`` with the given id keys."""

    table: str
    fields: tuple[Field, ...]
    model: str | None = None  # content-type model string, when the resource has one
    id_keys: tuple[str, ...] = ("pk",)
    dates: bool = True  # created_date / modified_date columns
    uniques: tuple[tuple[str, ...], ...] = ()
    related: tuple[tuple[str, Related], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    field_map: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.name: f for f in self.fields})

    @property
    def channel_scoped(self) -> bool:
        return "channel" in self.field_map


def F(name: str, kind: Kind = "str", default: Any = None, **kw: Any) -> Field:
    return Field(name, kind, default, **kw)


def fk(name: str, target: str, **kw: Any) -> Field:
    return Field(name, "fk", None, target=target, **kw)


CHANNEL = fk("channel", "channels", readonly=True)
POSITIVE_INT = (0, 2_147_483_647)  # stock fields: "min: 0, max: 2147483647" [DOC]
EXTRA = F("extra_field", "json", {})

MODELS: tuple[tuple[str, str], ...] = (
    ("batchrequest", "channel"),
    ("product", "products"),
    ("order", "orders"),
    ("orderitem", "orders"),
    ("productprice", "prices"),
    ("productstock", "stocks"),
    ("integrationaction", "channel"),
    ("productimage", "products"),
    ("categorytree", "channel"),
    ("categorynode", "channel"),
    ("channel", "channel"),
    ("productcategory", "products"),
    ("marketplaceattributeset", "channel"),
    ("marketplaceattributesetconfig", "channel"),
    ("marketplaceattribute", "channel"),
    ("marketplaceattributeschema", "channel"),
    ("marketplaceattributevalue", "channel"),
    ("marketplaceattributevalueconfig", "channel"),
    ("cancellationrequest", "orders"),
    ("errorreport", "channel"),
    ("customer", "users"),
    ("address", "address"),
)

LOCATION_MAPPING_KINDS: tuple[tuple[str, Kind], ...] = (
    ("code", "str"),
    ("integration_type", "str"),
)


def _mapping(kind: str) -> tuple[tuple[str, Related], ...]:
    return (
        (
            "mapping",
            Related("location_mappings", "location_id", (("kind", kind),), LOCATION_MAPPING_KINDS),
        ),
    )


SPECS: Mapping[str, Spec] = MappingProxyType(
    {
        s.table: s
        for s in (
            Spec(
                "content_types",
                (F("app_label"), F("model")),
                id_keys=("id",),
                dates=False,
                uniques=(("model",),),
            ),
            Spec(
                "catalogs",
                (
                    F("name"),
                    F("price_list", "int"),
                    F("stock_list", "int"),
                    F("extra_price_lists", "json", []),
                    F("extra_stock_lists", "json", []),
                ),
            ),
            Spec(
                "channels",
                (
                    F("name"),
                    fk("catalog", "catalogs"),
                    F("channel_type", default="sales_channel"),
                    F("conf", "json", {}),
                    F("schema", "json", {}),
                    fk("category_tree", "category_trees"),
                    F("is_active", "bool", True),
                ),
                model="channel",
                id_keys=("pk", "id"),
            ),
            Spec(
                "products",
                (
                    F("name", required=True, max_length=255),
                    F("base_code", max_length=255),
                    F("sku", required=True, max_length=255),
                    F("product_type", "int", 0),
                    F("is_active", "bool", True),
                    fk("parent", "products"),
                    F("attributes", "json", {}),
                    F("attributes_kwargs", "json", {}),
                    F("localized_attributes", "json", {}),
                    F("localized_attributes_kwargs", "json", {}),
                    F("extra_attributes", "json", {}),
                    F("group_products", "json", []),
                    F("attribute_set", "int"),
                    F("custom_attribute_set", "json", []),
                    F("listing_code"),
                    F("is_seller_product", "bool", False),
                    F("brand", "int"),
                    F("erp_categories", "json", []),
                    F("tax_rate", "dec", "18.00"),
                    F("description"),
                    F("weight", "dec"),
                    F("productization_date", "date"),
                    F("data_source"),
                    F("uuid", readonly=True),
                ),
                model="product",
                uniques=(("sku",),),
                indexes=(("sku",), ("base_code",)),
            ),
            Spec(
                "price_lists",
                (
                    F("name"),
                    F("code"),
                    F("currency", default="try"),
                    F("is_auto_sync", "bool", False),
                ),
            ),
            Spec("stock_lists", (F("name"), F("code"), F("is_auto_sync", "bool", False))),
            Spec(
                "product_prices",
                (
                    fk("product", "products", required=True),
                    fk("price_list", "price_lists", required=True),
                    F("price", "dec", required=True),
                    F("currency_type", default="try"),
                    F("tax_rate", "dec", "18.00"),
                    F("retail_price", "dec"),
                    F("discount_percentage", "dec"),
                    F("price_type", default="default", choices=("default", "range_")),
                    EXTRA,
                ),
                model="productprice",
                id_keys=("pk", "id"),
                uniques=(("product", "price_list"),),
                indexes=(("product",), ("price_list", "id")),
            ),
            Spec(
                "product_stocks",
                (
                    fk("product", "products", required=True),
                    fk("stock_list", "stock_lists", required=True),
                    F("stock", "int", 0, bounds=POSITIVE_INT),
                    F("unit_type", default="qty", choices=("qty", "kg")),
                    F("sold_quantity_unreported", "int", 0, bounds=POSITIVE_INT),
                    EXTRA,
                ),
                model="productstock",
                id_keys=("pk", "id"),
                uniques=(("product", "stock_list"),),
                indexes=(("product",), ("stock_list", "id")),
            ),
            Spec(
                "product_images",
                (
                    fk("product", "products", required=True),
                    F("image", required=True),
                    F("order", "int", 0),
                    F("source"),
                    F("height", "int"),
                    F("width", "int"),
                    F("hash"),
                    F("status", default="active", choices=("active", "disabled")),
                    F("is_active", "bool", True),
                ),
                model="productimage",
                indexes=(("product",),),
            ),
            Spec(
                "category_trees",
                (
                    CHANNEL,
                    F("name", required=True, max_length=255),
                    fk("category_root", "category_nodes", readonly=True),
                ),
                model="categorytree",
            ),
            Spec(
                "category_nodes",
                (
                    CHANNEL,
                    F("name", required=True, max_length=64),
                    F("order", "int", 0),
                    F("path", readonly=True),
                    F("depth", "int", readonly=True),
                    F("numchild", "int", 0, readonly=True),
                    F("uuid", readonly=True),
                    F("attributes", "json", {}),
                    F("remote_attributes", "json", {}),
                    F("sort_option", "int"),
                    F("marketplace_attribute_set", "int"),
                    fk("parent", "category_nodes", readonly=True),
                    fk("tree", "category_trees", readonly=True, hidden=True),
                ),
                model="categorynode",
                indexes=(("parent", "name"), ("path",)),
            ),
            Spec(
                "product_categories",
                (
                    fk("product", "products", required=True),
                    fk("category", "category_nodes", required=True),
                ),
                model="productcategory",
                indexes=(("product",),),
            ),
            Spec(
                "attribute_sets",
                (CHANNEL, F("name", required=True), F("remote_id"), F("description")),
                model="marketplaceattributeset",
                id_keys=("pk", "id"),
            ),
            Spec(
                "attribute_set_configs",
                (
                    CHANNEL,
                    fk("attribute_set", "attribute_sets", required=True),
                    F("object_id", "int", required=True),
                    F("content_type", required=True),
                ),
                model="marketplaceattributesetconfig",
            ),
            Spec(
                "attributes",
                (
                    CHANNEL,
                    F("name", required=True, max_length=255),
                    F("remote_id"),
                    F("is_active", "bool", True),
                ),
                model="marketplaceattribute",
                uniques=(("channel", "name"),),
            ),
            Spec(
                "attribute_schemas",
                (CHANNEL, F("name", required=True), F("schema", "json", {})),
                model="marketplaceattributeschema",
                uniques=(("channel", "name"),),
            ),
            Spec(
                "attribute_configs",
                (
                    CHANNEL,
                    fk("attribute_set", "attribute_sets", required=True),
                    fk("attribute", "attributes", required=True),
                    F("attribute_remote_id"),
                    F("is_required", "bool", False),
                    F("is_variant", "bool", False),
                    F("is_custom", "bool", False),
                    F("is_image_attribute", "bool", False),
                    F("is_meta", "bool", False),
                ),
                model="marketplaceattributeconfig",
                uniques=(("attribute_set", "attribute"),),
            ),
            Spec(
                "attribute_values",
                (
                    CHANNEL,
                    fk("attribute", "attributes", required=True),
                    F("label", required=True),
                    F("value", required=True),
                    F("remote_id"),
                ),
                model="marketplaceattributevalue",
                indexes=(("attribute", "value"),),
            ),
            Spec(
                "attribute_value_configs",
                (
                    CHANNEL,
                    fk("attribute_set", "attribute_sets", required=True),
                    fk("attribute_value", "attribute_values", required=True),
                ),
                model="marketplaceattributevalueconfig",
            ),
            Spec(
                "integration_actions",
                (
                    CHANNEL,
                    fk("content_type", "content_types"),
                    F("model", hidden=True),
                    F("object_id", "int", required=True),
                    F("remote_id"),
                    F("version_date", "date"),
                    F("state", "json", {}),
                    F("local_batch_id"),
                    F("status"),
                    F("prev_status", hidden=True, readonly=True),
                    F("prev_remote", "bool", hidden=True, readonly=True),
                ),
                model="integrationaction",
                id_keys=("pk", "id"),
                indexes=(("local_batch_id",), ("remote_id",), ("model", "status")),
            ),
            Spec(
                "batch_requests",
                (
                    CHANNEL,
                    F("local_batch_id", readonly=True),
                    F("remote_batch_id"),
                    F("content_type"),
                    F("status", default="initialized", readonly=True),
                    F("objects", "json"),
                    F("log_file"),
                ),
                model="batchrequest",
                id_keys=("pk", "id"),
                indexes=(("status", "content_type"),),
            ),
            Spec(
                "error_reports",
                (
                    CHANNEL,
                    F("action_content_type", "int"),
                    F("action_object_id", "int"),
                    F("target_content_type", "int"),
                    F("target_object_id", "int"),
                    F("obj_modified_date", "date"),
                    F("error_code"),
                    F("error_desc"),
                    F("raw_request"),
                    F("raw_response"),
                    F("is_ok", "bool", False),
                    F("type"),
                    F("extra", "json", {}),
                ),
                model="errorreport",
                id_keys=("id", "pk"),
            ),
            Spec(
                "cargos",
                (F("name"), F("erp_code"), F("shipping_company")),
                indexes=(("erp_code",),),
            ),
            Spec(
                "location_mappings",
                (F("kind"), F("location_id", "int"), F("code"), F("integration_type")),
                indexes=(("kind", "code"),),
            ),
            Spec(
                "countries",
                (F("name"), F("code"), F("is_active", "bool", True)),
                related=_mapping("country"),
            ),
            Spec(
                "cities",
                (fk("country", "countries"), F("name"), F("code"), F("is_active", "bool", True)),
                related=_mapping("city"),
            ),
            Spec(
                "townships",
                (
                    fk("country", "countries"),
                    fk("city", "cities"),
                    F("name"),
                    F("code"),
                    F("is_active", "bool", True),
                ),
                related=_mapping("township"),
            ),
            Spec(
                "districts",
                (
                    fk("country", "countries"),
                    fk("city", "cities"),
                    fk("township", "townships"),
                    F("name"),
                    F("code"),
                    F("is_active", "bool", True),
                ),
                related=_mapping("district"),
            ),
            Spec("retail_stores", (F("name"), F("erp_code"), F("is_active", "bool", True))),
            Spec(
                "customers",
                (
                    CHANNEL,
                    F("email", max_length=254),
                    F("phone_number", max_length=128),
                    F("first_name", max_length=255),
                    F("last_name", max_length=255),
                    EXTRA,
                    F("channel_code"),
                    F("is_active", "bool", True),
                    F("erp_code"),
                    F("date_joined", "date", readonly=True),
                    F("email_allowed", "bool", False),
                    F("sms_allowed", "bool", False),
                    F("call_allowed", "bool", False),
                    F("gender"),
                    F("attributes", "json", {}),
                    F("user_type", default="registered"),
                    F("date_of_birth"),
                ),
                model="customer",
                indexes=(("email",), ("phone_number",)),
            ),
            Spec(
                "addresses",
                (
                    CHANNEL,
                    F("email", max_length=254),
                    F("phone_number", max_length=128),
                    F("first_name", max_length=255),
                    F("last_name", max_length=255),
                    fk("customer", "customers"),
                    fk("country", "countries"),
                    fk("city", "cities"),
                    fk("township", "townships"),
                    fk("district", "districts"),
                    F("title", max_length=128),
                    F("line", max_length=255),
                    F("postcode", max_length=64),
                    F("notes", max_length=512),
                    F("company_name", max_length=255),
                    F("tax_office", max_length=64),
                    F("tax_no", max_length=20),
                    F("e_bill_taxpayer", "bool", False),
                    F("remote_id"),
                    F("identity_number", max_length=64),
                    EXTRA,
                    fk("retail_store", "retail_stores"),
                    F("address_type", default="customer"),
                    F("hash_data", readonly=True),
                    F("is_active", "bool", True),
                ),
                model="address",
                indexes=(("hash_data",),),
            ),
            Spec(
                "orders",
                (
                    CHANNEL,
                    F("number", required=True, max_length=128),
                    F("status", default="400"),
                    fk("customer", "customers"),
                    fk("shipping_address", "addresses"),
                    fk("billing_address", "addresses"),
                    F("currency", default="try"),
                    F("amount", "dec"),
                    F("shipping_amount", "dec", "0.00"),
                    F("shipping_tax_rate", "dec"),
                    EXTRA,
                    F("delivery_type"),
                    fk("cargo_company", "cargos"),
                    F("discount_amount", "dec", "0.00"),
                    F("net_shipping_amount", "dec"),
                    F("tracking_number", max_length=256),
                    F("carrier_shipping_code", max_length=256),
                    F("remote_addr"),
                    F("has_gift_box", "bool", False),
                    F("gift_box_note", max_length=160),
                    F("client_type", default="default"),
                    F("language_code"),
                    F("notes", max_length=320),
                    F("delivery_range", "json"),
                    F("shipping_option_slug", max_length=128),
                    F("date_placed", "date"),
                    F("cancel_status"),
                ),
                model="order",
                uniques=(("channel", "number"),),
                indexes=(("number",),),
            ),
            Spec(
                "order_items",
                (
                    fk("channel", "channels", readonly=True, hidden=True),
                    fk("order", "orders", readonly=True),
                    fk("product", "products", required=True),
                    F("status", default="400"),
                    F("price_currency", default="try"),
                    F("price", "dec"),
                    F("tax_rate", "dec"),
                    EXTRA,
                    F("price_list", "int"),
                    F("stock_list", "int"),
                    F("tracking_number", max_length=256),
                    F("carrier_shipping_code", max_length=256),
                    F("discount_amount", "dec", "0.00"),
                    F("retail_price", "dec"),
                    F("attributes", "json", {}),
                    F("attributes_kwargs", "json", {}),
                    F("parent", "int"),
                    F("delivered_date", "date"),
                    F("estimated_delivery_date", "date"),
                    F("invoice_number"),
                    F("invoice_date", "date"),
                    F("quantity", "int", 1),
                    F("unit_price", "dec"),
                    F("total_price", "dec"),
                    F("tax_amount", "dec"),
                    F("shipping_company"),
                    F("shipment_code"),
                ),
                model="orderitem",
                indexes=(("order",),),
            ),
            Spec(
                "cancellation_reasons",
                (
                    CHANNEL,
                    F("cancellation_type", default="cancel"),
                    F("subject"),
                    F("order", "int", 0),
                    F("is_active", "bool", True),
                    F("send_to_remote", "bool", True),
                    F("send_to_oms", "bool", True),
                    F("extra_information_needed", "bool", False),
                    F("translations", "json", {}),
                    F("uuid", readonly=True),
                ),
            ),
            Spec(
                "cancellation_requests",
                (
                    fk("channel", "channels", readonly=True, hidden=True),
                    fk("order_item", "order_items", required=True),
                    fk("reason", "cancellation_reasons"),
                    F("remote_id"),
                    F("description"),
                    F("cancellation_type", default="cancel"),
                    F("status", default="waiting"),
                    F("iban"),
                    F("holder_name"),
                    F("easy_return", "json", {}),
                    F("quantity", "int", 1),
                    F("fully_refund_as_loyalty_money", "bool", False),
                    F("uuid", readonly=True),
                ),
                model="cancellationrequest",
                id_keys=("id",),
            ),
            Spec(
                "order_shipping_infos",
                (
                    fk("channel", "channels", readonly=True, hidden=True),
                    fk("order", "orders", required=True),
                    F("order_number"),
                    F("shipping_company"),
                    F("is_send", "bool", False),
                ),
            ),
        )
    }
)

# Which table holds the objects of a content-type model (for inserts/updates/deleted views).
MODEL_TABLES: Mapping[str, str] = MappingProxyType(
    {spec.model: name for name, spec in SPECS.items() if spec.model is not None}
)
