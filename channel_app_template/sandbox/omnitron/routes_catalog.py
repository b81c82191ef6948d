"""Catalog routes: channel, catalog, content types, products, prices, stocks, images."""

from __future__ import annotations

from fastapi import FastAPI

from .crud import add_crud


def register(app: FastAPI) -> None:
    add_crud(
        app,
        "products",
        "products",
        ("list", "retrieve", "create", "update", "delete"),
        scoped=False,
    )
    add_crud(app, "products", "products", ("list", "retrieve"))
