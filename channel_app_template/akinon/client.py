"""One channel's Omnitron API: an attribute per area (``client.products``,
``client.batches``, ``client.orders``...), all on one authenticated HTTP client.

One instance = one session, one channel, one user. Build it from the settings with
:meth:`OmnitronClient.from_settings`; the token is then shared through the cache Redis.
The flows never hold one: the port (:class:`~channel_app_template.akinon.port.OmnitronIntegration`)
does; operator tools (``channel-app check``, ``dev``) use it directly.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from channel_app_template.akinon.api import (
    ActionsApi,
    AttributesApi,
    AttributeSetsApi,
    BatchesApi,
    CancellationsApi,
    CategoriesApi,
    ChannelApi,
    CustomersApi,
    LocationsApi,
    OrdersApi,
    ProductRowsApi,
    ProductsApi,
    ReportsApi,
    Session,
)
from channel_app_template.akinon.http import OmnitronHttp
from channel_app_template.akinon.models import ProductImage, ProductPrice, ProductStock
from channel_app_template.akinon.pagination import UnreadableHook
from channel_app_template.akinon.token_cache import RedisTokenCache, TokenCache
from channel_app_template.errors import ConfigurationError
from channel_app_template.settings import Settings
from channel_app_template.transport import Limits, RetryPolicy, Timeouts

__all__ = ["OmnitronClient"]


class OmnitronClient:
    """Typed access to one Omnitron channel."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: SecretStr | str,
        channel_id: int,
        catalog_id: int,
        *,
        token_cache: TokenCache | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        **http_options: Any,
    ) -> None:
        self.http = OmnitronHttp(
            base_url,
            username,
            password,
            token_cache=token_cache,
            timeouts=timeouts,
            retry=retry,
            **http_options,
        )
        self.channel_id = channel_id
        self.catalog_id = catalog_id
        self.session = session = Session(self.http, channel_id)
        self.channel = ChannelApi(session, catalog_id)
        self.products = ProductsApi(session)
        self.stocks = ProductRowsApi(
            session, "product_stocks", ProductStock, list_param="stock_list"
        )
        self.prices = ProductRowsApi(
            session, "product_prices", ProductPrice, list_param="price_list"
        )
        self.images = ProductRowsApi(session, "product_images", ProductImage, id_lookup="id__in")
        self.actions = ActionsApi(session)
        self.batches = BatchesApi(session)
        self.reports = ReportsApi(session)
        self.categories = CategoriesApi(session)
        self.attributes = AttributesApi(session)
        self.attribute_sets = AttributeSetsApi(session)
        self.orders = OrdersApi(session)
        self.customers = CustomersApi(session)
        self.locations = LocationsApi(session)
        self.cancellations = CancellationsApi(session)

    @property
    def on_unreadable(self) -> UnreadableHook | None:
        """Receives every listed row, of any area, that does not fit its model (unset:
        logged). The port sets it to report such rows on their object."""
        return self.session.on_unreadable

    @on_unreadable.setter
    def on_unreadable(self, hook: UnreadableHook | None) -> None:
        self.session.on_unreadable = hook

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        token_cache: TokenCache | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        **http_options: Any,
    ) -> OmnitronClient:
        """A client for the configured channel, its token cached in the cache Redis."""
        base_url = settings.omnitron_base_url
        missing = settings.missing_omnitron_settings()
        if missing:
            raise ConfigurationError(f"Omnitron settings missing: {', '.join(missing)}")
        assert base_url and settings.omnitron_username and settings.omnitron_password
        assert settings.omnitron_channel_id and settings.omnitron_catalog_id
        cache = token_cache or RedisTokenCache.from_dsn(
            settings.cache_dsn, base_url, settings.omnitron_username
        )
        timeouts = timeouts or Timeouts(
            connect=settings.omnitron_connect_timeout,
            read=settings.omnitron_read_timeout,
            total=settings.http_request_deadline,
        )
        http_options.setdefault("limits", Limits.from_settings(settings))
        return cls(
            base_url,
            settings.omnitron_username,
            settings.omnitron_password,
            settings.omnitron_channel_id,
            settings.omnitron_catalog_id,
            token_cache=cache,
            timeouts=timeouts,
            retry=retry,
            **http_options,
        )

    def __repr__(self) -> str:
        return f"OmnitronClient({self.http.base_url!r}, channel={self.channel_id})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OmnitronClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
