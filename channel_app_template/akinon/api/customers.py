"""Customers and their addresses: looked up before they are created, so an order's buyer
is one customer however many orders they place."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from channel_app_template.akinon.api._base import Area
from channel_app_template.akinon.models import Address, Customer, CustomerIdentifierField
from channel_app_template.akinon.pagination import Paginated
from channel_app_template.errors import ItemError

__all__ = ["CustomersApi", "duplicate_address_hash"]

logger = logging.getLogger(__name__)

HASH_DATA_PREFIX = "hash_data:"


def duplicate_address_hash(error: ItemError) -> str | None:
    """The ``hash_data`` Omnitron names when it refuses an address as a duplicate."""
    payload = error.payload
    if not isinstance(payload, dict):
        return None
    messages = payload.get("non_field_errors")
    candidates = messages if isinstance(messages, list) else [messages]
    for message in candidates:
        if isinstance(message, str) and message.startswith(HASH_DATA_PREFIX):
            token = message.split()[0]
            return token[len(HASH_DATA_PREFIX) :] or None
    return None


class CustomersApi(Area):
    def find(self, field: CustomerIdentifierField | str, value: str) -> Customer | None:
        """The channel's customer by email or phone number, or ``None``."""
        field = CustomerIdentifierField(field)
        params = {field.value: value, "channel": self.channel_id}
        return self._list(self._path("customers"), Customer, params).first()

    def find_many(
        self, field: CustomerIdentifierField | str, values: Sequence[str]
    ) -> Paginated[Customer]:
        """The channel's customers whose email or phone number is one of ``values``, in one
        ``{field}__in`` read (values must not contain a comma, the list separator)."""
        field = CustomerIdentifierField(field)
        params = {f"{field.value}__in": ",".join(values), "channel": self.channel_id}
        return self._list(self._path("customers"), Customer, params, page_size=len(values))

    def create(self, body: Mapping[str, Any]) -> Customer:
        payload = {"channel": self.channel_id, **body}
        return self._create(self._path("customers"), Customer, payload)

    def find_address(self, hash_data: str) -> Address | None:
        return self._list(self._path("addresses"), Address, {"hash_data": hash_data}).first()

    def create_address(self, body: Mapping[str, Any]) -> Address:
        """Create an address, or return the existing one Omnitron names as a duplicate.

        Omnitron refuses an address it already has with ``non_field_errors`` starting
        ``hash_data:<hash>``; that is not a failure for us, we read that address instead.
        """
        try:
            return self._create(self._path("addresses"), Address, dict(body))
        except ItemError as error:
            digest = duplicate_address_hash(error)
            if digest is None:
                raise
            existing = self.find_address(digest)
            if existing is None:
                raise
            logger.info("address already existed in Omnitron; reusing pk %s", existing.pk)
            return existing
