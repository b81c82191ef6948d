"""A channel's own data: its attributes and attribute sets, and the sync bookkeeping
(integration actions, batch requests, error reports)."""

from __future__ import annotations

from ._declare import CHANNEL, F, Spec, fk

CHANNEL_DATA: tuple[Spec, ...] = (
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
        # (channel, model, remote_id): a look-up by remote ids names the channel and model
        # too, and SQLite took ux_ia_object's (channel, model) prefix over the remote_id index,
        # reading every action of the model (every order, for each page of orders).
        indexes=(
            ("local_batch_id",),
            ("remote_id",),
            ("model", "status"),
            ("channel", "model", "remote_id"),
        ),
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
)
