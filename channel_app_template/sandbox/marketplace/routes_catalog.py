"""``/api/v1/categories`` and ``/api/v1/attributes``: the read-only reference data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from channel_app_template.sandbox.common.http import json_response
from channel_app_template.sandbox.common.route_table import Route

from .context import guard
from .errors import not_found
from .route_table import API, api_route
from .seed import ATTRIBUTES

__all__ = ["ROUTES"]


async def categories(request: Request) -> Response:
    catalog = guard(request).store.catalog
    return json_response({"items": [catalog.category_wire(c) for c in catalog.categories]})


async def tree(request: Request) -> Response:
    return json_response({"items": guard(request).store.catalog.tree()})


async def category(request: Request) -> Response:
    catalog = guard(request).store.catalog
    cid = int(request.path_params["cid"])
    if cid not in catalog.categories:
        raise not_found("category")
    out = catalog.category_wire(cid)
    out["attributes"] = [
        catalog.attribute_wire(a) for a in catalog.attributes.get(cid, {}).values()
    ]
    return json_response(out)


async def category_attributes(request: Request) -> Response:
    catalog = guard(request).store.catalog
    cid = int(request.path_params["cid"])
    if cid not in catalog.categories:
        raise not_found("category")
    items = [catalog.attribute_wire(a) for a in catalog.attributes.get(cid, {}).values()]
    return json_response({"category_id": cid, "items": items})


async def attributes(request: Request) -> Response:
    guard(request)
    return json_response({"items": [_attribute(a.id) for a in ATTRIBUTES]})


async def attribute_values(request: Request) -> Response:
    guard(request)
    aid = int(request.path_params["aid"])
    found = _attribute(aid)
    if found is None:
        raise not_found("attribute")
    return json_response({"attribute_id": aid, "items": found["values"]})


def _attribute(aid: int) -> dict[str, object] | None:
    for attr in ATTRIBUTES:
        if attr.id == aid:
            return {
                "id": attr.id,
                "code": attr.code,
                "name": attr.name,
                "type": attr.kind,
                "max_length": attr.max_length if attr.kind == "text" else None,
                "values": [{"id": v, "code": c, "name": n} for v, c, n in attr.values],
            }
    return None


ROUTES: list[Route] = [
    api_route(f"{API}/categories", GET=categories),
    api_route(f"{API}/categories/tree", GET=tree),
    api_route(f"{API}/categories/{{cid:int}}", GET=category),
    api_route(f"{API}/categories/{{cid:int}}/attributes", GET=category_attributes),
    api_route(f"{API}/attributes", GET=attributes),
    api_route(f"{API}/attributes/{{aid:int}}/values", GET=attribute_values),
]
