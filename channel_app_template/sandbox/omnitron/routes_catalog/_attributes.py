"""Attributes, attribute sets and their channel configs (generic CRUD), and the detailed list
of attribute configs with their attribute and set nested."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import channel_of, guard
from ..http import list_response
from ..resources import SPECS
from ..route_table import CHANNEL, Crud, Entry, route

WRITABLE = ("list", "retrieve", "create", "update")
CONFIG_SPEC = SPECS["attribute_configs"]


async def detailed_configs(request: Request) -> Response:
    sim = guard(request)
    cid = channel_of(request, sim)

    def nested(row: dict[str, Any]) -> dict[str, Any]:
        out = sim.store.wire(CONFIG_SPEC, row)
        attribute = sim.store.get("attributes", row["attribute"])
        attr_set = sim.store.get("attribute_sets", row["attribute_set"])
        out["attribute"] = attribute and {"pk": attribute["id"], "name": attribute["name"]}
        out["attribute_set"] = attr_set and {"pk": attr_set["id"], "name": attr_set["name"]}
        return out

    return list_response(
        request, sim.store, CONFIG_SPEC, base=[("t.channel = ?", [cid])], serializer=nested
    )


ROUTES: list[Entry] = [
    *(
        Crud(name, name, WRITABLE)
        for name in (
            "attribute_sets",
            "attribute_set_configs",
            "attribute_schemas",
            "attribute_values",
            "attribute_value_configs",
            "attributes",
            "attribute_configs",
        )
    ),
    route(f"{CHANNEL}/attribute_configs/detailed/", GET=detailed_configs),
]
