"""Every simulated Omnitron resource, declared as data: table, columns, wire names, rules.

One declaration drives the SQLite schema, the JSON shape, write validation and the filters, so
adding a resource never means writing another CRUD handler. The declarations are grouped by
area in private modules; ``SPECS`` joins them in one fixed order (the schema's and the
listings' order).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._catalog import CATALOG
from ._channel import CHANNEL_DATA
from ._declare import Field, Kind, Related, Spec
from ._locations import LOCATIONS
from ._orders import ORDERS

__all__ = ["MODELS", "MODEL_TABLES", "SPECS", "Field", "Kind", "Related", "Spec"]

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

SPECS: Mapping[str, Spec] = MappingProxyType(
    {s.table: s for s in (*CATALOG, *CHANNEL_DATA, *LOCATIONS, *ORDERS)}
)

# Which table holds the objects of a content-type model (for inserts/updates/deleted views).
MODEL_TABLES: Mapping[str, str] = MappingProxyType(
    {spec.model: name for name, spec in SPECS.items() if spec.model is not None}
)
