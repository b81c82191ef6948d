"""Sync an Akinon Omnitron catalog and its orders with a marketplace, as Celery tasks."""

__version__ = "0.1.0"
