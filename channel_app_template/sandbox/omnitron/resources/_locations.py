"""Reference data behind channel paths: cargo companies, countries down to districts (with
their code mappings), retail stores."""

from __future__ import annotations

from ._declare import F, Kind, Related, Spec, fk

LOCATION_MAPPING_KINDS: tuple[tuple[str, Kind], ...] = (
    ("code", "str"),
    ("integration_type", "str"),
)


def _mapping(kind: str) -> tuple[tuple[str, Related], ...]:
    return (
        (
            "mapping",
            Related("location_mappings", "location_id", (("kind", kind),), LOCATION_MAPPING_KINDS),
        ),
    )


LOCATIONS: tuple[Spec, ...] = (
    Spec(
        "cargos",
        (F("name"), F("erp_code"), F("shipping_company")),
        indexes=(("erp_code",),),
    ),
    Spec(
        "location_mappings",
        (F("kind"), F("location_id", "int"), F("code"), F("integration_type")),
        indexes=(("kind", "code"),),
    ),
    Spec(
        "countries",
        (F("name"), F("code"), F("is_active", "bool", True)),
        related=_mapping("country"),
    ),
    Spec(
        "cities",
        (fk("country", "countries"), F("name"), F("code"), F("is_active", "bool", True)),
        related=_mapping("city"),
    ),
    Spec(
        "townships",
        (
            fk("country", "countries"),
            fk("city", "cities"),
            F("name"),
            F("code"),
            F("is_active", "bool", True),
        ),
        related=_mapping("township"),
    ),
    Spec(
        "districts",
        (
            fk("country", "countries"),
            fk("city", "cities"),
            fk("township", "townships"),
            F("name"),
            F("code"),
            F("is_active", "bool", True),
        ),
        related=_mapping("district"),
    ),
    Spec("retail_stores", (F("name"), F("erp_code"), F("is_active", "bool", True))),
)
