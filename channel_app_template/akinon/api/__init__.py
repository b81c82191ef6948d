"""Omnitron's REST API, one small typed class per area, over one :class:`Session`.

:class:`~channel_app_template.akinon.client.OmnitronClient` bundles them for one channel.
Only the port (:mod:`channel_app_template.akinon.port`) and operator tools use them; the
flows go through the port.
"""

from __future__ import annotations

from channel_app_template.akinon.api._base import ID_CHUNK, Area, Session, chunked, join_ids
from channel_app_template.akinon.api.actions import ActionsApi
from channel_app_template.akinon.api.attribute_sets import AttributeSetsApi
from channel_app_template.akinon.api.attributes import AttributesApi
from channel_app_template.akinon.api.batches import BatchesApi
from channel_app_template.akinon.api.cancellations import CancellationsApi
from channel_app_template.akinon.api.categories import CategoriesApi
from channel_app_template.akinon.api.channel import ChannelApi
from channel_app_template.akinon.api.customers import CustomersApi
from channel_app_template.akinon.api.locations import LOCATION_KINDS, LocationsApi
from channel_app_template.akinon.api.orders import OrdersApi
from channel_app_template.akinon.api.product_rows import ProductRowsApi
from channel_app_template.akinon.api.products import ProductsApi
from channel_app_template.akinon.api.reports import ReportsApi

__all__ = [
    "ID_CHUNK",
    "LOCATION_KINDS",
    "ActionsApi",
    "Area",
    "AttributeSetsApi",
    "AttributesApi",
    "BatchesApi",
    "CancellationsApi",
    "CategoriesApi",
    "ChannelApi",
    "CustomersApi",
    "LocationsApi",
    "OrdersApi",
    "ProductRowsApi",
    "ProductsApi",
    "ReportsApi",
    "Session",
    "chunked",
    "join_ids",
]
