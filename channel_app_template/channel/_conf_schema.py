"""The settings form Omnitron shows for a channel, derived from the channel's config model.

``ChannelIntegration.get_channel_conf_schema`` returns :func:`conf_schema_fields` of the
integration's ``config_model`` unless the integration overrides it, so the merchant never
meets an empty form. Pydantic's JSON schema of each field decides which of Omnitron's nine
data types fits (text, URL, email, date, datetime, bool, json, list, integer). What a data
type cannot say goes into the field's optional ``schema`` as JSON Schema keywords
(``format: password`` for secrets, ``enum`` for choices, ``type: number`` for floats, the
field's bounds). [INF] Public material names that ``schema`` key but not its content;
JSON Schema is the vocabulary pydantic already speaks, and Omnitron stores it as given.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from channel_app_template.channel._dto import ChannelConfSchemaField, ConfDataType

__all__ = ["conf_schema_fields"]

FORMATS = {
    "uri": ConfDataType.URL,
    "email": ConfDataType.EMAIL,
    "date": ConfDataType.DATE,
    "date-time": ConfDataType.DATETIME,
}
KEPT_KEYWORDS = (
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
)
"""JSON Schema keywords passed on in ``schema``: choices and bounds the form can enforce."""
SCALARS = frozenset({"string", "integer", "number", "boolean"})


class _TypesOnly(GenerateJsonSchema):
    """Pydantic's JSON schema without defaults (a secret's default must not reach Omnitron,
    and a default that is not JSON must not warn) and with ``{}`` for a type it cannot
    describe (such a field becomes a text field instead of breaking the form)."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        return {}


def conf_schema_fields(
    model: type[BaseModel], skip: Collection[str] = ()
) -> list[ChannelConfSchemaField]:
    """One form field per field of ``model`` (keys as the conf spells them), except ``skip``.

    ``required`` is a field without a default; the label is the field's ``title``, else
    its description (``Field(description=...)`` or the attribute's docstring; first
    paragraph, without reST's double backquotes), else the field's name.
    """
    schema = model.model_json_schema(by_alias=True, schema_generator=_TypesOnly)
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    properties: Mapping[str, Any] = schema.get("properties", {})
    fields: list[ChannelConfSchemaField] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if name in skip or key in skip:
            continue
        data_type, extra = _form_type(_resolve(properties.get(key, {}), definitions))
        fields.append(
            ChannelConfSchemaField(
                key=key,
                label=_label(name, info),
                data_type=data_type,
                required=info.is_required(),
                schema_=extra or None,
            )
        )
    return fields


def _resolve(node: Mapping[str, Any], definitions: Mapping[str, Any]) -> dict[str, Any]:
    """The field's own schema: references followed, ``Optional`` unwrapped; a union of
    several types becomes ``{"anyOf": [...]}`` of the resolved alternatives."""
    for _ in range(20):  # a reference chain this long is a cycle
        if "$ref" in node:
            node = definitions.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            break
    choices = node.get("anyOf") or node.get("oneOf")
    if not choices:
        return dict(node)
    options = [_resolve(each, definitions) for each in choices]
    options = [each for each in options if each.get("type") != "null"]
    if len(options) == 1:
        return options[0]
    return {"anyOf": options}


def _form_type(node: Mapping[str, Any]) -> tuple[ConfDataType, dict[str, Any]]:
    """Omnitron's data type for a resolved field schema, and the keywords kept for it."""
    extra = {word: node[word] for word in KEPT_KEYWORDS if word in node}
    if "const" in node:
        extra["enum"] = [node["const"]]
    kind = node.get("type")
    if "anyOf" in node:
        kinds = {each.get("type") for each in node["anyOf"]}
        return (ConfDataType.TEXT if kinds <= SCALARS else ConfDataType.JSON), {}
    if kind == "boolean":
        return ConfDataType.BOOL, {}
    if kind == "integer":
        return ConfDataType.INTEGER, extra
    if kind == "number":
        return ConfDataType.TEXT, {"type": "number", **extra}
    if kind == "array":
        items = node.get("items", {})
        scalar = isinstance(items, Mapping) and items.get("type") in SCALARS
        return (ConfDataType.LIST if scalar else ConfDataType.JSON), extra
    if kind == "object":
        return ConfDataType.JSON, {}
    fmt = node.get("format")
    if fmt == "password":
        return ConfDataType.TEXT, {"format": "password", **extra}
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt], {}
    return ConfDataType.TEXT, extra


def _label(name: str, info: FieldInfo) -> str:
    text = info.title or (info.description or "").strip().split("\n\n", 1)[0]
    text = re.sub(r"\s+", " ", text.replace("``", "")).strip()
    return text or name.replace("_", " ").capitalize()
